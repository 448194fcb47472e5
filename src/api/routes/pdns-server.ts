// PowerDNS server discovery (pdns ws-api.cc): what lego, octoDNS and terraform ask before anything
// else. Registered inside the PowerDNS scope (../pdns/scope.ts), under /api.
import type { FastifyInstance } from 'fastify';
import { SERVER_PATH } from '../pdns/zone-json.js';

/** pdns ws-api.cc: a numeric X.Y.Z version (octoDNS parses it with int()), at or above 4.2 so that
 *  octoDNS takes a 404 to mean "no such zone". */
export const PDNS_VERSION = '4.9.0';

const server = {
  type: 'Server', id: 'localhost', daemon_type: 'authoritative', version: PDNS_VERSION,
  url: SERVER_PATH, config_url: `${SERVER_PATH}/config{/config_setting}`, zones_url: `${SERVER_PATH}/zones{/zone}`,
};

export async function pdnsServerRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { tags: ['powerdns'], summary: 'PowerDNS: API versions' } }, async () => [{ url: '/api/v1', version: 1 }]);
  app.get('/v1', { schema: { tags: ['powerdns'], summary: 'PowerDNS: API v1 root' } }, async () => [{ url: '/api/v1', version: 1 }]);
  app.get('/v1/servers', { schema: { tags: ['powerdns'], summary: 'PowerDNS: servers' } }, async () => [server]);
  app.get('/v1/servers/localhost', { schema: { tags: ['powerdns'], summary: 'PowerDNS: this server' } }, async () => server);
  app.get('/v1/servers/localhost/config', { schema: { tags: ['powerdns'], summary: 'PowerDNS: configuration (none exposed)' } }, async () => []);
  app.get('/v1/servers/localhost/statistics', { schema: { tags: ['powerdns'], summary: 'PowerDNS: statistics (see /metrics)' } }, async () => []);
}
