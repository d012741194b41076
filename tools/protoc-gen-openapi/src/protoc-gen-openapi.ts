// The plugin's entry point: buf runs it (buf.gen.yaml) after `npm run generate` compiles it.
import { runNodeJs } from "@bufbuild/protoplugin";
import { openApiPlugin } from "./openapi-plugin.js";

runNodeJs(openApiPlugin);
