/**
 * Every default in one place. The seed's values are kept: port 8080, host 0.0.0.0, timeout 120 s,
 * connect_timeout 30 s. Durations are seconds, sizes bytes, exactly as the YAML keys say.
 */
export const DEFAULTS = {
  server: {
    port: 8080,
    host: '0.0.0.0',
    cors: true,
    forward_client_ip: false,
    shutdown_grace: 30,
    headers_timeout: 30,
    request_timeout: 300,
    keep_alive_timeout: 65,
    max_header_size: 16 * 1024,
  },
  backend: {
    base_url: 'https://api.openai.com',
    api_key: '',
  },
  model: {
    override: '',
    echo_alias: false,
    list_ttl: 300,
    list_timeout: 5,
  },
  request: {
    timeout: 120,
    connect_timeout: 30,
    max_body_size: 100 * 1024 * 1024,
    spool_above: 1024 * 1024,
  },
  retry: {
    on_status: [429, 500, 502, 503, 504],
    backoff: 0.1,
    max_backoff: 2,
    max_retry_after: 5,
  },
  health: {
    failure_threshold: 3,
    cooldown: 30,
    bad_key_cooldown: 600,
  },
  cors: {
    origins: ['*'],
    max_age: 600,
  },
  log: {
    level: 'info',
    format: 'auto',
  },
  websocket: {
    enabled: true,
    /** Generous: realtime sessions sit silent for minutes. */
    idle_timeout: 600,
  },
} as const;
