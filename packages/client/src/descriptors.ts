// The generated service and message descriptors, compiled from the repository's
// gen/ (never copied or edited by hand). Free of Node APIs, so browsers can import
// "@secure-session-storage/client/descriptors" too.
export * from "../../../gen/sessionstorage/v1/session_storage_service_pb.js";
export * from "../../../gen/sessionstorage/v1/sessions_service_pb.js";
export * from "../../../gen/sessionstorage/v1/auth_status_service_pb.js";
export * from "../../../gen/sessionstorage/v1/client_sessions_service_pb.js";
export * from "../../../gen/sessionstorage/v1/cookie_session_service_pb.js";
export * from "../../../gen/sessionstorage/v1/jwks_service_pb.js";
export * from "../../../gen/sessionstorage/v1/sign_out_service_pb.js";
export * from "../../../gen/sessionstorage/v1/session_events_service_pb.js";
