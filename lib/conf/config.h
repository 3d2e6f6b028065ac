/* SPDX-License-Identifier: ISC */
/*
 * The configuration file (YAML). Every option is one row of the schema
 * table in config.c: its path, type, bounds and default. Loading is all or
 * nothing: any unknown key, wrong type or invalid value fails the whole load
 * with a message "FILE:LINE: KEY: what is wrong".
 */
#ifndef ACM_CONFIG_H
#define ACM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/conf/cidr.h"
#include "lib/dns/dname.h"
#include "lib/log.h"     /* log.level, log.format and log.target values */
#include "lib/dns/tsig.h"

#define ACM_CONFIG_ERR_MAX 512

/* Who may read GET /metrics (http.metrics). */
enum acm_metrics_access { ACM_METRICS_PUBLIC, ACM_METRICS_ADMIN, ACM_METRICS_OFF };

typedef struct {
	struct sockaddr_storage addr;   /* AF_INET or AF_INET6, port set */
	socklen_t addrlen;
	char text[80];                  /* as written, for messages */
} acm_listen_t;

struct ldns_struct_rr;

/* dns.rrl: response rate limiting (lib/rt/rrl.h), UDP only. */
typedef struct {
	unsigned rate;                  /* dns.rrl.rate per second per network and class, default 20, 0 = off */
	unsigned slip;                  /* dns.rrl.slip, 0..10, default 2: every 2nd limited response TC; 0 = drop all */
	unsigned window;                /* dns.rrl.window seconds, 1..3600, default 15 */
	unsigned ipv4_prefix;           /* dns.rrl.ipv4_prefix, 1..32, default 24 */
	unsigned ipv6_prefix;           /* dns.rrl.ipv6_prefix, 1..128, default 56 */
	size_t exempt_count;            /* dns.rrl.exempt: CIDRs never limited, default none */
	acm_cidr_t *exempt;
} acm_rrl_conf_t;

typedef struct {
	char *text;                     /* the record in zone-file syntax */
	unsigned line;                  /* where it stands in the file */
	struct ldns_struct_rr *rr;      /* text parsed (origin the apex), owned here */
} acm_record_src_t;

typedef struct {
	char *path;                     /* the file this was read from */
	unsigned *key_lines;            /* per setting, the line it was written on (acm_config_line) */

	/* zone: */
	uint8_t apex[ACM_DNAME_MAX];    /* zone.name, lower case wire */
	size_t ns_count;                /* zone.ns (at least one) */
	uint8_t (*ns)[ACM_DNAME_MAX];
	struct {
		uint8_t mname[ACM_DNAME_MAX];   /* zone.soa.mname, default ns[0] */
		uint8_t rname[ACM_DNAME_MAX];   /* zone.soa.rname, default hostmaster.<apex> */
		uint32_t refresh, retry, expire, minimum, ttl;
	} soa;
	uint32_t txt_ttl;               /* zone.txt_ttl, default 1 */
	unsigned txt_max_values;        /* zone.txt_max_values, 1..64, default 8 */
	size_t record_count;            /* zone.records */
	acm_record_src_t *records;

	/* dns: */
	size_t listen_count;            /* dns.listen, default 127.0.0.1:53 and [::1]:53 */
	acm_listen_t *listen;
	unsigned workers;               /* dns.workers, 0 = one per core */
	unsigned udp_payload;           /* dns.udp_payload, 512..4096, default 1232 */
	unsigned tcp_idle_timeout;      /* dns.tcp_idle_timeout seconds, default 10 */
	unsigned tcp_max_clients;       /* dns.tcp_max_clients, default 1024 */
	unsigned tcp_max_per_client;    /* dns.tcp_max_per_client (IPv4 address, IPv6 /64), default 16 */
	unsigned tcp_message_timeout;   /* dns.tcp_message_timeout seconds, default 5 */
	acm_rrl_conf_t rrl;             /* dns.rrl */
	bool name_index;                /* dns.name_index, default true */
	bool udp_yield;                 /* dns.udp_yield, default true */

	/* http: the API is off when the section is absent. */
	struct {
		bool enabled;                   /* the http section is present */
		size_t listen_count;            /* http.listen (required in the section) */
		acm_listen_t *listen;
		char *tls_cert;                 /* http.tls.cert, http.tls.key: both or neither */
		char *tls_key;
		char *admin_token_file;         /* http.admin_token_file; NULL = admin routes off */
		bool disable_registration;      /* http.disable_registration, default false */
		unsigned txt_limit;             /* http.txt_limit 1..64, default 2 */
		uint64_t txt_expiry;            /* http.txt_expiry seconds, default 604800, 0 = never */
		size_t cors_count;              /* http.cors_origins, default none */
		char **cors_origins;
		char *proxy_header;             /* http.proxy_header, default NULL = use the peer */
		size_t trusted_proxy_count;     /* http.trusted_proxies (CIDRs); required with proxy_header */
		char **trusted_proxies;
		uint64_t max_body;              /* http.max_body bytes, default 64K, 1K..16M */
		unsigned timeout;               /* http.timeout seconds, default 10, 1..3600 */
		unsigned max_connections;       /* http.max_connections, default 1024 */
		unsigned max_connections_per_client; /* http.max_connections_per_client, default 32 */
		unsigned request_timeout;       /* http.request_timeout seconds, default 10 */
		unsigned register_rate;         /* http.register_rate per address per minute, default 10, 0 = unlimited */
		unsigned register_rate_global;  /* http.register_rate_global per second, all addresses, default 100, 0 = unlimited */
		unsigned batch_max;             /* http.batch_max operations, default 1000, 1..100000 */
		int metrics;                    /* http.metrics: enum acm_metrics_access, default public */
		bool access_log;                /* http.access_log: a line per request, default false */
		bool update_waits_for_secondaries; /* http.update_waits_for_secondaries, default false */
	} http;

	/* tsig: [{name, algorithm, secret}] (secret in base64, as in BIND/Knot key files) */
	size_t tsig_count;
	acm_tsig_key_t *tsig;

	/* transfer: zone transfer out and NOTIFY. */
	struct {
		size_t allow_count;             /* transfer.allow: [{address: CIDR, key: NAME}] */
		struct acm_transfer_allow {
			bool has_address;       /* address given: the client must be inside it */
			acm_cidr_t address;
			bool has_key;           /* key given: the request must be signed with it */
			uint8_t key[ACM_DNAME_MAX];
			size_t key_len;
		} *allow;
		size_t notify_count;            /* transfer.notify: ["HOST:PORT", ...] */
		acm_listen_t *notify;
		unsigned journal_max_entries;   /* transfer.journal.max_entries, default 10000 */
		unsigned journal_max_age;       /* transfer.journal.max_age seconds, default 604800 */
	} transfer;

	/* update: RFC 2136 dynamic updates (always TSIG-signed). */
	struct {
		bool enabled;                   /* update.enabled, default false */
	} update;

	/* lookups: the log of recent DNS lookups (lib/rt/lookup_log.h). */
	struct {
		bool enabled;                   /* lookups.enabled, default true */
		unsigned total;                 /* lookups.total entries, all workers, default 100000 */
		unsigned per_name;              /* lookups.per_name, 1..1000, default 20 */
	} lookups;

	/* delegation: the delegation check (lib/rt/delegation.h). */
	struct {
		bool configured;                /* the delegation section is present */
		size_t resolver_count;          /* delegation.resolvers, default none = iterate from the root */
		acm_listen_t *resolvers;        /* port 53 unless given */
		char *trust_anchor_file;        /* delegation.trust_anchor_file, default /usr/share/dns/root.key */
		char *root_hints;               /* delegation.root_hints, default NULL = libunbound's own */
		unsigned timeout;               /* delegation.timeout seconds, 1..300, default 5 */
		unsigned concurrency;           /* delegation.concurrency checks at once, 1..10000, default 64 */
	} delegation;

	/* dnssec: online signing of answers (lib/dns/dnssec.h, docs/dnssec.md).
	 * The keys live in the store (lib/store/store_dnssec.h). */
	struct {
		bool enabled;                   /* dnssec.enabled, default false */
		uint8_t algorithm;              /* dnssec.algorithm: ecdsap256sha256 (default) | ed25519 */
		uint32_t signature_validity;    /* dnssec.signature_validity seconds, default 14 days */
		uint32_t signature_refresh;     /* dnssec.signature_refresh seconds, default 7 days;
		                                   a signature with less left is made again */
	} dnssec;

	/* store: */
	char *store_path;               /* store.path, default ./var */
	uint64_t store_max_size;        /* store.max_size bytes, default 4 GiB */
	unsigned store_max_accounts;    /* store.max_accounts, default 0 = no cap */

	/* audit: the audit log's bounds, whichever is reached first. */
	unsigned audit_max_entries;     /* audit.max_entries, default 100000 */
	uint64_t audit_max_age;         /* audit.max_age seconds, default 7776000 (90 days) */

	/* log: */
	int log_level;                  /* log.level: error|warning|notice|info|debug */
	int log_format;                 /* log.format: logfmt|json, default logfmt */
	int log_target;                 /* log.target: stderr|syslog, default stderr */
} acm_config_t;

/* An address as dns.listen and transfer.notify take it: "IPv4[:port]",
 * "[IPv6][:port]" or a bare IPv6 address, default_port when none is given.
 * ACM_OK, or ACM_EBADVALUE for anything else (host names too). */
int acm_listen_parse(const char *text, uint16_t default_port, acm_listen_t *out);

/*
 * Load and check the file at path. On success *out is a new config.
 * On failure returns ACM_ECONFIG (or -errno if the file cannot be read)
 * and writes a one-line message naming file, line and key into err.
 * Static records are checked too (syntax via ldns, owner inside the zone,
 * class IN, no SOA or NS: those come from zone.soa and zone.ns).
 */
int acm_config_load(const char *path, acm_config_t **out, char *err, size_t errlen);

/* The line of cfg's file on which KEY ("http.tls.cert") was written; 0
 * when it was not (a default) or KEY is not a setting. For messages about
 * what a setting names, read after loading (lib/conf/preflight.c). */
unsigned acm_config_line(const acm_config_t *cfg, const char *key);
void acm_config_free(acm_config_t *cfg);

#endif
