/* SPDX-License-Identifier: ISC */
/*
 * A minimal HTTP/1.0 client for the commands that need the running daemon
 * (what only acmensd's memory holds, such as the lookup log): one GET to
 * the admin API at the first http.listen address, with the token from
 * http.admin_token_file, over TLS when http.tls is set. HTTP/1.0 with
 * Connection: close keeps the reply a plain body that ends with the
 * connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/error.h"

#define HTTP_TIMEOUT_S 10
#define REPLY_MAX (16u << 20)
#define TOKEN_MAX 256

typedef struct {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
} conn_t;

static int read_token(const cli_t *c, char out[TOKEN_MAX])
{
	const char *path = c->cfg->http.admin_token_file;
	FILE *f = fopen(path, "re");
	if (!f)
		return cli_fail(c, CLI_STORE, "http.admin_token_file %s: %s", path, strerror(errno));
	size_t n = fread(out, 1, TOKEN_MAX - 1, f);
	fclose(f);
	while (n > 0 && strchr("\r\n \t", out[n - 1]))
		n--;
	out[n] = '\0';
	if (n == 0)
		return cli_fail(c, CLI_STORE, "http.admin_token_file %s is empty", path);
	return CLI_OK;
}

/* The first listen address; a wildcard one is reached on loopback. */
static void target(const cli_t *c, struct sockaddr_storage *ss, socklen_t *len, bool *loopback)
{
	const acm_listen_t *l = &c->cfg->http.listen[0];
	memcpy(ss, &l->addr, sizeof(*ss));
	*len = l->addrlen;
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
}

/* TLS to addr: verified against the system's CAs and the address, except
 * on loopback, where the daemon is this machine's own. */
static int tls_start(conn_t *k, const char *addr, bool loopback)
{
	if (!(k->ctx = SSL_CTX_new(TLS_client_method())) || !(k->ssl = SSL_new(k->ctx)))
		return ACM_ECRYPTO;
	SSL_CTX_set_min_proto_version(k->ctx, TLS1_2_VERSION);
	if (!loopback) {
		SSL_CTX_set_default_verify_paths(k->ctx);
		SSL_set_verify(k->ssl, SSL_VERIFY_PEER, NULL);
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(k->ssl), addr))
			return ACM_ECRYPTO;
	}
	if (!SSL_set_fd(k->ssl, k->fd) || SSL_connect(k->ssl) != 1)
		return ACM_ECRYPTO;
	return ACM_OK;
}

static int conn_open(const cli_t *c, conn_t *k, char *host, size_t hostlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	struct timeval tv = { .tv_sec = HTTP_TIMEOUT_S };
	target(c, &ss, &len, &loopback);
	const void *a = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
	                                        : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	inet_ntop(ss.ss_family, a, host, (socklen_t)hostlen);
	k->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (k->fd < 0)
		return -errno;
	setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(k->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(k->fd, (struct sockaddr *)&ss, len) != 0)
		return -errno;
	return c->cfg->http.tls_cert ? tls_start(k, host, loopback) : ACM_OK;
}

static void conn_close(conn_t *k)
{
	if (k->ssl)
		SSL_free(k->ssl);
	if (k->ctx)
		SSL_CTX_free(k->ctx);
	if (k->fd >= 0)
		close(k->fd);
}

static int conn_write(conn_t *k, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = k->ssl ? SSL_write(k->ssl, buf, (int)len) : write(k->fd, buf, len);
		if (n <= 0)
			return k->ssl ? ACM_ECRYPTO : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return ACM_OK;
}

/* Everything until the daemon closes the connection, NUL-terminated. */
static int conn_read_all(conn_t *k, char **out, size_t *outlen)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return -ENOMEM;
		if (len + 1 == cap) {
			char *bigger = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!bigger) {
				free(buf);
				return -EMSGSIZE;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = k->ssl ? SSL_read(k->ssl, buf + len, (int)(cap - len - 1))
		                   : read(k->fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return len ? ACM_OK : -ECONNRESET;
}

/* "HTTP/1.x NNN ...", headers, blank line, JSON body. */
static int parse_reply(const char *text, size_t len, int *status, json_t **body)
{
	const char *end = strstr(text, "\r\n\r\n");
	if (strncmp(text, "HTTP/1.", 7) != 0 || len < 12 || !end)
		return ACM_EMALF;
	*status = atoi(text + 9);
	*body = json_loads(end + 4, 0, NULL);
	return *body ? ACM_OK : ACM_EMALF;
}

int cli_admin_get(const cli_t *c, const char *path, int *status, json_t **body)
{
	char token[TOKEN_MAX], host[INET6_ADDRSTRLEN], req[1024];
	conn_t k = { .fd = -1 };
	char *reply = NULL;
	size_t len = 0;
	int rc = read_token(c, token);
	if (rc != CLI_OK)
		return rc;
	rc = conn_open(c, &k, host, sizeof(host));
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
	                 "Accept: application/json\r\nConnection: close\r\n\r\n", path, host, token);
	explicit_bzero(token, sizeof(token));
	if (rc == ACM_OK)
		rc = n > 0 && (size_t)n < sizeof(req) ? conn_write(&k, req, (size_t)n) : -E2BIG;
	explicit_bzero(req, sizeof(req));
	if (rc == ACM_OK)
		rc = conn_read_all(&k, &reply, &len);
	if (rc == ACM_OK)
		rc = parse_reply(reply, len, status, body);
	free(reply);
	conn_close(&k);
	if (rc != ACM_OK)
		return cli_fail(c, CLI_STORE, "cannot reach the admin API at %s (%s): %s",
		                c->cfg->http.listen[0].text, host,
		                rc == ACM_ECRYPTO ? "TLS failed" : acm_strerror(rc));
	return CLI_OK;
}
