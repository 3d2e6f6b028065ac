/* SPDX-License-Identifier: ISC */
/*
 * TLS for the API: building a server context from the configured
 * certificate chain and key, and the per-connection bufferevent evhttp
 * asks for. The certificate and key are loaded by lib/conf/preflight.c,
 * which acmensctl check-config shares, so that both word a failure alike.
 */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdio.h>

#include "httpapi/server_int.h"
#include "lib/conf/preflight.h"
#include "lib/error.h"

/* "what file: reason" from the OpenSSL error queue, which is then empty
 * so that the next failure does not report a stale reason. */
static int tls_fail(const char *what, const char *file, char *err, size_t errlen)
{
	char reason[256] = "unknown error";
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(err, errlen, "%s %s: %s", what, file, reason);
	return ACM_ECRYPTO;
}

int acm_tls_ctx_new(const char *cert_file, const char *key_file, SSL_CTX **out, char *err,
                    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc = ACM_OK;

	*out = NULL;
	ERR_clear_error();
	if (!ctx)
		return tls_fail("http.tls:", "context", err, errlen);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		rc = tls_fail("http.tls:", "minimum version", err, errlen);
	else
		rc = acm_tls_load_pair(ctx, cert_file, key_file, err, errlen);
	if (rc != ACM_OK) {
		SSL_CTX_free(ctx);
		return rc;
	}
	/* Renegotiation only gives a client a way to make us do handshakes
	 * without opening connections (which the cap counts). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	*out = ctx;
	return ACM_OK;
}

/* On failure evhttp falls back to a plain socket; a TLS client then gets a
 * 400 to its ClientHello, and nothing is ever sent unencrypted that the
 * client meant to encrypt. */
struct bufferevent *acm_tls_bev_new(struct event_base *base, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients that close without close_notify are the norm for HTTP,
	 * where the message framing already says where the data ends. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}
