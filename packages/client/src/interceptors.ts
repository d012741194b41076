// The client's interceptors on their own, free of Node APIs, for pages that
// build a Connect-Web transport: "@secure-session-storage/client/interceptors".
export { bearerTokenInterceptor } from "./bearer-token-interceptor.js";
export { credentialsInterceptor } from "./credentials-interceptor.js";
export { requestIdInterceptor } from "./request-id-interceptor.js";
