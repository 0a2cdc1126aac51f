export { buildApp, type AppDeps } from './app.js';
export { loadApiConfig, apiEnvSchema, type ApiConfig, type Limits, type AuthSettings } from './config.js';
export { CreateWorkloadBody, RunRequest, RunAccepted } from './schemas.js';
export { ErrorBody } from './http-errors.js';
