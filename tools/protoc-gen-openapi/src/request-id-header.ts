/** The x-request-id header every reply carries, as a response's headers. */
export const requestIdHeader = { "x-request-id": { $ref: "#/components/headers/RequestId" } };

export const requestIdHeaderComponent = {
  description: "The request's id: the incoming x-request-id when valid, else a new one. The service's log lines of the request carry it.",
  schema: { type: "string" },
};
