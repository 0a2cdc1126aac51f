export * from './profile-schema.js';
export * from './shapes.js';
