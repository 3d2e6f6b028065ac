/* SPDX-License-Identifier: ISC */
/*
 * The checks of what the configuration names outside itself (see
 * preflight.h), one implementation for acmensd and acmensctl check-config
 * so that both say the same thing. OpenSSL's error queue and errno are
 * turned here into what an operator acts on (no such file, permission
 * denied, wrong format, key does not match certificate), the library's
 * text kept after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/conf/preflight.h"
#include "lib/conf/zone.h"
#include "lib/error.h"

/* The store files LMDB and acmensd open read-write when they are there. */
static const char *const store_files[] = { "data.mdb", "lock.mdb", "acmensd.lock", NULL };

static const char *errno_term(int e)
{
	switch (e) {
	case ENOENT: return "no such file or directory";
	case EACCES:
	case EPERM: return "permission denied";
	case ENOTDIR: return "a part of the path is not a directory";
	case EISDIR: return "a directory, not a file";
	case EROFS: return "read-only file system";
	case ELOOP: return "too many levels of symbolic links";
	case ENAMETOOLONG: return "name too long";
	default: return acm_strerror(-e);
	}
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Open path for reading, a regular file only. ACM_OK with *fd_out and *st;
 * -errno or ACM_ECONFIG with *what saying why in the operator's words. */
static int open_regular(const char *path, int *fd_out, struct stat *st, const char **what)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		*what = errno_term(e);
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		*what = S_ISDIR(st->st_mode) ? errno_term(EISDIR) : "not a regular file";
		return ACM_ECONFIG;
	}
	*fd_out = fd;
	return ACM_OK;
}

/* ---- TLS ----------------------------------------------------------------- */

/* What OpenSSL's error queue says, in the terms of the messages; the
 * queue is empty afterwards, so no stale reason reaches a later failure. */
struct ossl_why {
	int sys;                /* the errno of the first system error */
	bool format;            /* the file is not PEM of the expected kind */
	bool mismatch;          /* key and certificate do not belong together */
	char text[256];         /* the latest error's text, OpenSSL's own */
};

static void ossl_drain(struct ossl_why *w)
{
	unsigned long e;

	memset(w, 0, sizeof(*w));
	snprintf(w->text, sizeof(w->text), "no error recorded");
	while ((e = ERR_get_error()) != 0) {
		int lib = ERR_GET_LIB(e);
		if (ERR_SYSTEM_ERROR(e)) {
			if (!w->sys)
				w->sys = ERR_GET_REASON(e);
		} else if (lib == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			w->mismatch = true;
		} else if (lib == ERR_LIB_PEM || lib == ERR_LIB_ASN1 || lib == ERR_LIB_OSSL_DECODER) {
			w->format = true;
		}
		ERR_error_string_n(e, w->text, sizeof(w->text));
	}
}

enum tls_stage { STAGE_CERT, STAGE_KEY, STAGE_MATCH };

static int tls_fail(enum tls_stage stage, const char *cert, const char *key, char *err,
                    size_t errlen)
{
	static const char *const wrong_format[] = {
		[STAGE_CERT] = "wrong format: expected PEM certificates, the server's first",
		[STAGE_KEY] = "wrong format: expected a PEM private key",
	};
	const char *file = stage == STAGE_CERT ? cert : key;
	struct ossl_why w;
	struct stat st;
	const char *what;

	ossl_drain(&w);
	/* OpenSSL reads a directory as an empty file: "no start line" */
	if (stat(file, &st) == 0 && S_ISDIR(st.st_mode))
		what = errno_term(EISDIR);
	else if (w.sys)
		what = errno_term(w.sys);
	else if (stage == STAGE_MATCH || w.mismatch)
		what = "the key does not match the certificate";
	else if (w.format)
		what = wrong_format[stage];
	else
		what = "cannot be used";
	return fail(err, errlen, ACM_ECRYPTO, "http.tls.%s %s: %s (OpenSSL: %s)",
		    stage == STAGE_CERT ? "cert" : "key", file, what, w.text);
}

int acm_tls_load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                      size_t errlen)
{
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		return tls_fail(STAGE_CERT, cert_file, key_file, err, errlen);
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
		return tls_fail(STAGE_KEY, cert_file, key_file, err, errlen);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(STAGE_MATCH, cert_file, key_file, err, errlen);
	return ACM_OK;
}

static int check_tls(const acm_config_t *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return fail(err, errlen, -ENOMEM, "http.tls: cannot make a TLS context");
	int rc = acm_tls_load_pair(ctx, cfg->http.tls_cert, cfg->http.tls_key, err, errlen);
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- the admin token ----------------------------------------------------- */

static int token_fail(char *err, size_t errlen, int rc, const char *path, const char *what)
{
	return fail(err, errlen, rc, "http.admin_token_file %s: %s", path, what);
}

/* Open path and refuse a file every user could read: the token is the key
 * to every account. */
static int token_open(const char *path, int *fd_out, char *err, size_t errlen)
{
	char what[128];
	const char *why;
	struct stat st;
	int fd, rc = open_regular(path, &fd, &st, &why);

	if (rc != ACM_OK)
		return token_fail(err, errlen, rc, path, why);
	if (st.st_mode & S_IROTH) {
		close(fd);
		snprintf(what, sizeof(what), "readable by every user (mode %04o); allow the owner "
			 "and at most the group (chmod o-rwx)", (unsigned)(st.st_mode & 07777));
		return token_fail(err, errlen, ACM_ECONFIG, path, what);
	}
	*fd_out = fd;
	return ACM_OK;
}

int acm_admin_token_read(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[ACM_ADMIN_TOKEN_MAX + 258];
	int fd = -1, rc = token_open(path, &fd, err, errlen);

	if (rc != ACM_OK)
		return rc;
	ssize_t n = read(fd, buf, sizeof(buf));
	int e = errno;
	close(fd);
	if (n < 0)
		return token_fail(err, errlen, -e, path, errno_term(e));
	/* a full buffer may not be the whole file */
	bool fits = (size_t)n < sizeof(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\t'))
		n--;
	if (n == 0 || !fits || (size_t)n > ACM_ADMIN_TOKEN_MAX || (size_t)n >= outlen ||
	    memchr(buf, '\0', (size_t)n) || memchr(buf, '\n', (size_t)n)) {
		rc = token_fail(err, errlen, ACM_ECONFIG, path,
				n == 0 ? "the file is empty"
				       : "expected one line of at most 255 bytes");
	} else {
		memcpy(out, buf, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static int check_token(const char *path, char *err, size_t errlen)
{
	char token[ACM_ADMIN_TOKEN_MAX + 1];
	int rc = acm_admin_token_read(path, token, sizeof(token), err, errlen);

	OPENSSL_cleanse(token, sizeof(token));
	return rc;
}

/* ---- the store directory ------------------------------------------------- */

static int store_fail(char *err, size_t errlen, const char *dir, const char *what, int e)
{
	return fail(err, errlen, ACM_ECONFIG, "store.path %s: %s%s%s", dir, what,
		    e ? ": " : "", e ? errno_term(e) : "");
}

/* A file made and removed again: access(2) would say yes to root on a
 * file system mounted read-only or full of inodes. */
static int probe_writable(const char *dir, char *err, size_t errlen)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/.acmens-check-XXXXXX", dir) >= (int)sizeof(path))
		return store_fail(err, errlen, dir, "path too long", 0);
	int fd = mkstemp(path);
	if (fd < 0)
		return store_fail(err, errlen, dir, "cannot write in the directory", errno);
	close(fd);
	unlink(path);
	return ACM_OK;
}

static int check_store_files(const char *dir, char *err, size_t errlen)
{
	char path[4096], what[4200];

	for (int i = 0; store_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, store_files[i]);
		int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno == ENOENT)
			continue;
		snprintf(what, sizeof(what), "cannot open %s for writing", store_files[i]);
		return store_fail(err, errlen, dir, what, errno);
	}
	return ACM_OK;
}

/* Make the missing directories of path as acmensd would (mode 0700), then
 * remove them again, deepest first. */
static int probe_creatable(const char *dir, char *err, size_t errlen)
{
	char path[4096], what[4200];
	size_t made[64], nmade = 0, len = strlen(dir);
	int rc = ACM_OK;

	if (len >= sizeof(path))
		return store_fail(err, errlen, dir, "path too long", 0);
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len && rc == ACM_OK; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) == 0 && nmade < sizeof(made) / sizeof(made[0])) {
			made[nmade++] = i;
		} else if (errno != EEXIST) {
			snprintf(what, sizeof(what), "cannot create directory %s", path);
			rc = store_fail(err, errlen, dir, what, errno);
		}
		path[i] = i < len ? '/' : '\0';
	}
	if (rc == ACM_OK)
		rc = probe_writable(dir, err, errlen);
	while (nmade > 0) {
		path[made[--nmade]] = '\0';
		rmdir(path);
	}
	return rc;
}

static int check_store(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return errno == ENOENT ? probe_creatable(dir, err, errlen)
				       : store_fail(err, errlen, dir, "cannot reach it", errno);
	if (!S_ISDIR(st.st_mode))
		return store_fail(err, errlen, dir, "not a directory", 0);
	int rc = probe_writable(dir, err, errlen);
	return rc != ACM_OK ? rc : check_store_files(dir, err, errlen);
}

/* ---- the delegation check's files ---------------------------------------- */

/* libunbound reads them only when the first check starts: a file it cannot
 * read would otherwise surface as every check failing. */
static int check_readable(const char *key, const char *path, char *err, size_t errlen)
{
	const char *why;
	struct stat st;
	int fd;

	if (open_regular(path, &fd, &st, &why) != ACM_OK)
		return fail(err, errlen, ACM_ECONFIG, "%s %s: %s", key, path, why);
	close(fd);
	return ACM_OK;
}

/* Only with the section written: the default trust anchor is a Debian
 * package's file (dns-root-data) that a server without the check needs not
 * have. */
static int check_delegation(const acm_config_t *cfg, char *err, size_t errlen)
{
	int rc = check_readable("delegation.trust_anchor_file", cfg->delegation.trust_anchor_file,
				err, errlen);
	if (rc == ACM_OK && cfg->delegation.root_hints)
		rc = check_readable("delegation.root_hints", cfg->delegation.root_hints, err, errlen);
	return rc;
}

/* ---- all of them --------------------------------------------------------- */

/* "FILE:LINE: KEY …" when the message starts with a setting written in the
 * file, "FILE: …" otherwise (a default, or the zone as a whole). */
static int fail_at(const acm_config_t *cfg, char *err, size_t errlen, const char *why)
{
	char key[64];
	size_t n = strcspn(why, " :");
	unsigned line = 0;
	if (n < sizeof(key)) {
		memcpy(key, why, n);
		key[n] = '\0';
		line = acm_config_line(cfg, key);
	}
	if (line)
		return fail(err, errlen, ACM_ECONFIG, "%s:%u: %s", cfg->path, line, why);
	return fail(err, errlen, ACM_ECONFIG, "%s: %s", cfg->path, why);
}

int acm_preflight(const acm_config_t *cfg, char *err, size_t errlen)
{
	char why[ACM_CONFIG_ERR_MAX] = "";
	acm_zone_t *zone = NULL;
	int rc = acm_zone_build(cfg, &zone, why, sizeof(why));

	acm_zone_unref(zone);
	if (rc == ACM_OK && cfg->http.enabled && cfg->http.tls_cert)
		rc = check_tls(cfg, why, sizeof(why));
	if (rc == ACM_OK && cfg->http.enabled && cfg->http.admin_token_file)
		rc = check_token(cfg->http.admin_token_file, why, sizeof(why));
	if (rc == ACM_OK && cfg->delegation.configured)
		rc = check_delegation(cfg, why, sizeof(why));
	if (rc == ACM_OK)
		rc = check_store(cfg->store_path, why, sizeof(why));
	if (rc == ACM_OK)
		return ACM_OK;
	return fail_at(cfg, err, errlen, why[0] ? why : acm_strerror(rc));
}
