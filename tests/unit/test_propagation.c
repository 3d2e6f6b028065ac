/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the propagation pieces in lib/: the SOA query and NOTIFY
 * builder, the parse of a secondary's reply (untrusted bytes, cut at every
 * length), the status table keeping what it knew across a reload, and
 * its hooks firing for news only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/dns/dname.h"
#include "lib/error.h"
#include "lib/rt/soa_probe.h"
#include "lib/dns/wire.h"
#include "lib/rt/zone_status.h"

static uint8_t apex[ACM_DNAME_MAX];

static int setup(void **state)
{
	(void)state;
	return acm_dname_from_text("auth.example.org.", apex) > 0 ? 0 : -1;
}

/* A reply to msg: QR and AA set, one SOA answer owned by a pointer to the
 * question, its names compressed too. */
static size_t reply_with_soa(uint8_t *buf, size_t len, uint32_t serial)
{
	acm_wire_t w = acm_wire_init(buf, 512);
	w.pos = len;
	acm_put_u16(buf + 2, (uint16_t)(acm_get_u16(buf + 2) | 0x8400));
	acm_put_u16(buf + 6, 1);
	acm_wire_write_u16(&w, 0xC00C);
	acm_wire_write_u16(&w, 6);
	acm_wire_write_u16(&w, 1);
	acm_wire_write_u32(&w, 3600);
	acm_wire_write_u16(&w, 2 + 2 + 20);
	acm_wire_write_u16(&w, 0xC00C);       /* mname */
	acm_wire_write_u16(&w, 0xC00C);       /* rname */
	acm_wire_write_u32(&w, serial);
	for (int i = 0; i < 4; i++)
		acm_wire_write_u32(&w, 60);
	assert_int_equal(w.err, ACM_OK);
	return w.pos;
}

static void test_query_and_reply(void **state)
{
	(void)state;
	uint8_t buf[512];
	int len = acm_soa_message(buf, sizeof(buf), 0x1234, ACM_OPCODE_QUERY, apex);
	assert_true(len > 12);
	size_t n = reply_with_soa(buf, (size_t)len, 0xFFFFFFFEu);
	acm_soa_reply_t r;
	assert_int_equal(acm_soa_reply_parse(buf, n, apex, &r), ACM_OK);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.opcode, ACM_OPCODE_QUERY);
	assert_true(r.has_serial);
	assert_int_equal(r.serial, 0xFFFFFFFEu);
	assert_false(r.has_additional);
}

static void test_notify_flags(void **state)
{
	(void)state;
	uint8_t buf[ACM_SOA_MSG_MAX];
	int len = acm_soa_message(buf, sizeof(buf), 7, ACM_OPCODE_NOTIFY, apex);
	assert_true(len > 12);
	uint16_t flags = acm_get_u16(buf + 2);
	assert_int_equal((flags >> 11) & 0xF, ACM_OPCODE_NOTIFY);
	assert_true(flags & 0x0400);          /* AA */
	assert_false(flags & 0x8000);         /* a request */
	assert_int_equal(acm_soa_message(buf, 12, 7, ACM_OPCODE_NOTIFY, apex), ACM_ESPACE);
}

/* A query is not a reply; a reply cut anywhere never reads past its end. */
static void test_hostile_replies(void **state)
{
	(void)state;
	uint8_t buf[512];
	acm_soa_reply_t r;
	int len = acm_soa_message(buf, sizeof(buf), 1, ACM_OPCODE_QUERY, apex);
	assert_int_equal(acm_soa_reply_parse(buf, (size_t)len, apex, &r), ACM_EMALF);
	size_t n = reply_with_soa(buf, (size_t)len, 5);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(acm_soa_reply_parse(buf, cut, apex, &r), ACM_EMALF);
	/* an SOA for another name is no serial of ours */
	uint8_t other[ACM_DNAME_MAX];
	acm_dname_from_text("example.net.", other);
	assert_int_equal(acm_soa_reply_parse(buf, n, other, &r), ACM_OK);
	assert_false(r.has_serial);
	/* a pointer forwards, out of the rdata */
	acm_put_u16(buf + n - 24, 0xC1FF);
	assert_int_equal(acm_soa_reply_parse(buf, n, apex, &r), ACM_EMALF);
}

static void test_status_survives_reload(void **state)
{
	(void)state;
	acm_zone_status_t *st;
	acm_secondary_status_t rows[3];
	uint32_t serial;
	bool have;
	const char *before[] = { "192.0.2.1:53", "192.0.2.2:53" };
	const char *after[] = { "192.0.2.2:53", "192.0.2.3:53", "192.0.2.1:53" };
	assert_int_equal(acm_zone_status_new(&st), ACM_OK);
	assert_int_equal(acm_zone_status_get(st, &serial, &have, rows, 3), 0);
	assert_false(have);
	assert_int_equal(acm_zone_status_set_targets(st, before, 2), ACM_OK);
	acm_zone_status_set_serial(st, 9);
	acm_zone_status_seen(st, 1, 8, 1000);
	acm_zone_status_notify_sent(st, 1, 9, 1, 1001);
	acm_zone_status_notify_acked(st, 1, 9);
	acm_zone_status_seen(st, 7, 8, 1000);        /* out of range: ignored */
	assert_int_equal(acm_zone_status_set_targets(st, after, 3), ACM_OK);
	assert_int_equal(acm_zone_status_get(st, &serial, &have, rows, 3), 3);
	assert_true(have);
	assert_int_equal(serial, 9);
	assert_string_equal(rows[0].address, "192.0.2.2:53");
	assert_true(rows[0].seen && rows[0].notify_acked);
	assert_int_equal(rows[0].serial, 8);
	assert_false(rows[1].seen || rows[2].seen);
	acm_zone_status_free(st);
}

static void count_hook(void *arg)
{
	(*(unsigned *)arg)++;
}

static void test_status_hooks(void **state)
{
	(void)state;
	acm_zone_status_t *st;
	unsigned seen = 0, wants = 0;
	const char *targets[] = { "192.0.2.1:53", "192.0.2.2:53" };
	assert_int_equal(acm_zone_status_new(&st), ACM_OK);
	acm_zone_status_want(st);                      /* nobody hooked: nothing */
	acm_zone_status_on_seen(st, count_hook, &seen);
	acm_zone_status_on_want(st, count_hook, &wants);
	assert_int_equal(acm_zone_status_set_targets(st, targets, 2), ACM_OK);
	assert_int_equal(seen, 1);                     /* the list changed */
	acm_zone_status_seen(st, 0, 8, 1000);
	assert_int_equal(seen, 2);                     /* first answer */
	acm_zone_status_seen(st, 0, 8, 1005);
	assert_int_equal(seen, 2);                     /* same serial: no news */
	acm_zone_status_seen(st, 0, 9, 1010);
	acm_zone_status_seen(st, 1, 9, 1010);
	assert_int_equal(seen, 4);
	acm_zone_status_seen(st, 5, 10, 1010);         /* out of range */
	assert_int_equal(seen, 4);
	acm_zone_status_want(st);
	acm_zone_status_want(st);
	assert_int_equal(wants, 2);
	acm_zone_status_on_seen(st, NULL, NULL);
	acm_zone_status_on_want(st, NULL, NULL);
	acm_zone_status_seen(st, 0, 11, 1020);
	acm_zone_status_want(st);
	assert_int_equal(seen, 4);
	assert_int_equal(wants, 2);
	acm_zone_status_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_and_reply),
		cmocka_unit_test(test_notify_flags),
		cmocka_unit_test(test_hostile_replies),
		cmocka_unit_test(test_status_survives_reload),
		cmocka_unit_test(test_status_hooks),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
