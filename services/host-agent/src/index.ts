export { HostAgent, type HostAgentDeps } from './agent.js';
export { agentConfigFromEnv, AgentEnv, type AgentConfig } from './config.js';
