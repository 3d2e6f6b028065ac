/* SPDX-License-Identifier: ISC */
/*
 * The client address of a request: the peer, or the proxy walk over a
 * forwarding header that a trusted proxy sent. Every byte of the header
 * may come from the client, so nothing but plain addresses parses, and the
 * walk never believes an entry left of one that is not trusted.
 */
#include <arpa/inet.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpapi/client_addr.h"

/* "65535" and below, digits only. */
static bool port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 5 && s[n] == '\0' && strtoul(s, NULL, 10) <= 65535;
}

/*
 * One entry of a forwarding header: an address, optionally with a port as
 * some proxies write it: "192.0.2.1", "192.0.2.1:80", "2001:db8::1",
 * "[2001:db8::1]" or "[2001:db8::1]:443", spaces or tabs around it. Nothing
 * else parses: no zone index, no RFC 7239 "for=" syntax, no names.
 */
static bool parse_forwarded_ip(const char *s, size_t len, struct sockaddr_storage *out)
{
	char text[INET6_ADDRSTRLEN + 8];

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';

	char *host = text, *colon = strchr(text, ':');
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close || (close[1] && (close[1] != ':' || !port_ok(close + 2))))
			return false;
		*close = '\0';
		host++;
	} else if (colon && colon == strrchr(text, ':')) {
		if (!port_ok(colon + 1))     /* IPv4 with a port */
			return false;
		*colon = '\0';
	}

	memset(out, 0, sizeof(*out));
	struct sockaddr_in *a4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
	if (host == text && inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static bool is_trusted(const acm_http_conf_t *conf, const struct sockaddr *sa)
{
	for (size_t i = 0; i < conf->trusted_count; i++)
		if (acm_cidr_match(&conf->trusted[i], sa))
			return true;
	return false;
}

/* Every instance of the header, in order, joined with ',' as RFC 9110
 * (5.3) allows a recipient to; the caller frees it. NULL if there is none
 * or memory ran out. */
static char *joined_header(const struct evkeyvalq *h, const char *name)
{
	const struct evkeyval *kv;
	size_t len = 0;
	char *out;

	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		if (strcasecmp(kv->key, name) == 0)
			len += strlen(kv->value) + 1;
	if (len == 0 || !(out = malloc(len)))
		return NULL;
	len = 0;
	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next) {
		if (strcasecmp(kv->key, name) != 0)
			continue;
		size_t n = strlen(kv->value);
		if (len)
			out[len++] = ',';
		memcpy(out + len, kv->value, n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

/*
 * Walk the list from the right, as each proxy appends the address it got
 * the request from: an entry a trusted proxy wrote is believed, so the walk
 * goes on past trusted addresses and stops at the first one that is not
 * trusted, which is the client. Everything further left came from that
 * client and could say anything. An entry that is not an address ends the
 * walk where it stands, at the last trusted hop: skipping it to believe an
 * entry further left would let a client pick its own address. When every
 * entry is trusted, the left-most is the client.
 */
static void walk_forwarded(const acm_http_conf_t *conf, const char *list,
                           struct sockaddr_storage *client)
{
	size_t end = strlen(list);
	struct sockaddr_storage a;

	for (;;) {
		size_t start = end;
		while (start > 0 && list[start - 1] != ',')
			start--;
		if (!parse_forwarded_ip(list + start, end - start, &a))
			return;
		*client = a;
		if (!is_trusted(conf, (const struct sockaddr *)&a) || start == 0)
			return;
		end = start - 1;
	}
}

/* The peer is the client unless it is a trusted proxy that says otherwise. */
void acm_client_addr(const acm_http_conf_t *conf, const struct sockaddr *peer,
                     const struct evkeyvalq *headers, struct sockaddr_storage *client,
                     char *text, size_t textlen)
{
	memset(client, 0, sizeof(*client));
	if (peer && (peer->sa_family == AF_INET || peer->sa_family == AF_INET6))
		memcpy(client, peer, peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
		                                                 : sizeof(struct sockaddr_in6));
	if (conf->proxy_header && client->ss_family && is_trusted(conf, peer)) {
		char *list = joined_header(headers, conf->proxy_header);
		if (list)
			walk_forwarded(conf, list, client);
		free(list);
	}

	const void *addr = client->ss_family == AF_INET
	                       ? (const void *)&((struct sockaddr_in *)client)->sin_addr
	                       : (const void *)&((struct sockaddr_in6 *)client)->sin6_addr;
	if (client->ss_family == 0 || !inet_ntop(client->ss_family, addr, text, (socklen_t)textlen))
		snprintf(text, textlen, "unknown");
}
