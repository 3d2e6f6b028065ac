/* SPDX-License-Identifier: ISC */
/*
 * What the configuration names outside itself, checked the one way both
 * acmensd (at start, before it opens the store or binds a socket, and on
 * reload) and acmensctl check-config check it: the zone built from it, the
 * TLS certificate and key, the admin token file, the delegation check's trust
 * anchor and root hints (with the delegation section), the store directory. Messages are in the
 * operator's terms, "KEY PATH: what is wrong", with a library's own text
 * after it in parentheses: "http.tls.cert /etc/acmens/cert.pem: no such
 * file or directory (OpenSSL: error:0A080002:SSL routines::system lib)".
 */
#ifndef ACM_PREFLIGHT_H
#define ACM_PREFLIGHT_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "lib/conf/config.h"

/* The longest admin token (bytes, without the trailing newline). */
#define ACM_ADMIN_TOKEN_MAX 255

/*
 * The zone built from cfg (and thrown away), then every check below that
 * cfg calls for, in the order acmensd needs them.
 * ACM_OK, or ACM_ECONFIG with the first problem in err. Creates nothing
 * that it does not remove again (a missing store directory is made and
 * removed, to learn that it can be).
 */
int acm_preflight(const acm_config_t *cfg, char *err, size_t errlen);

/*
 * Load the certificate chain cert_file and the private key key_file into
 * ctx and check that they belong together. ACM_OK, or ACM_ECRYPTO with a
 * message naming http.tls.cert or http.tls.key. Leaves OpenSSL's error
 * queue empty.
 */
int acm_tls_load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                      size_t errlen);

/*
 * The admin token: the file's first line without trailing white space,
 * into out (ACM_ADMIN_TOKEN_MAX + 1 bytes). The file must be readable, not
 * readable by every user (group-readable is fine: the service may read it
 * through its group), hold one non-empty line of at most
 * ACM_ADMIN_TOKEN_MAX bytes. ACM_OK, ACM_ECONFIG or -errno, with the
 * message in err.
 */
int acm_admin_token_read(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
