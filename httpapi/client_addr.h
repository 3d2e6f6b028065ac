/* SPDX-License-Identifier: ISC */
/*
 * Who the client of a request is: the peer, or, when the peer is a trusted
 * proxy and a proxy header is configured, the address that header names,
 * read from the right past every trusted proxy (docs/api.md, "Behind a
 * proxy"). Pure: no state, no logging; runs on the HTTP thread.
 */
#ifndef ACM_HTTPAPI_CLIENT_ADDR_H
#define ACM_HTTPAPI_CLIENT_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "httpapi/server_int.h"

struct evkeyvalq;

/*
 * Set client to the client of a request that peer sent with these input
 * headers, under conf's proxy_header and trusted proxies, and text to its
 * address as text (at least INET6_ADDRSTRLEN bytes). A peer that is
 * neither IPv4 nor IPv6 (or NULL) leaves client zeroed and text "unknown".
 * When memory runs out the peer is taken as the client.
 */
void acm_client_addr(const acm_http_conf_t *conf, const struct sockaddr *peer,
                     const struct evkeyvalq *headers, struct sockaddr_storage *client,
                     char *text, size_t textlen);

#endif
