/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/rt/metrics.h: summing per-worker blocks (a worker's
 * gauge going down included), histogram bucket edges, the label tables,
 * and the exposition text with its escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/error.h"
#include "lib/rt/metrics.h"

static void test_sum_blocks(void **state)
{
	(void)state;
	acm_metrics_t *m;
	assert_int_equal(acm_metrics_new(1234, &m), ACM_OK);
	assert_int_equal(acm_metrics_start_time(m), 1234);
	acm_dns_metrics_t *a = acm_metrics_dns_block(m), *b = acm_metrics_dns_block(m);
	assert_non_null(a);
	assert_non_null(b);
	acm_dns_metrics_answer(a, false, 16, 0, 100, false);
	acm_dns_metrics_answer(b, false, 16, 0, 1500, true);
	acm_dns_metrics_answer(b, true, 99, 16, 0, false);   /* OTHER, OTHER, no size */
	acm_counter_add(&a->tcp_open, 1);
	acm_counter_add(&a->tcp_open, 1);
	acm_counter_add(&b->tcp_open, 1);
	acm_counter_add(&a->tcp_open, UINT64_MAX);             /* a close */

	acm_dns_metrics_t sum;
	acm_metrics_dns_sum(m, &sum);
	size_t txt = acm_m_qtype_index(16);
	assert_int_equal(acm_counter_get(&sum.queries[ACM_M_UDP][txt][0]), 2);
	assert_int_equal(acm_counter_get(&sum.queries[ACM_M_TCP][ACM_M_QTYPES - 1]
	                                             [ACM_M_RCODES - 1]), 1);
	assert_int_equal(acm_counter_get(&sum.truncated), 1);
	assert_int_equal(acm_counter_get(&sum.size_sum[ACM_M_UDP]), 1600);
	assert_int_equal(acm_counter_get(&sum.size[ACM_M_UDP][1]), 1);   /* 100 <= 128 */
	assert_int_equal(acm_counter_get(&sum.size[ACM_M_UDP][6]), 1);   /* 1500 <= 4096 */
	assert_int_equal(acm_counter_get(&sum.size_sum[ACM_M_TCP]), 0);
	assert_int_equal((int64_t)acm_counter_get(&sum.tcp_open), 2);
	acm_metrics_free(m);
}

static void test_buckets(void **state)
{
	(void)state;
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 0), 0);
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 64), 0);
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 65), 1);
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 1232), 5);
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 65535), 8);
	assert_int_equal(acm_hist_bucket(acm_m_size_bounds, ACM_M_SIZE_BOUNDS, 65536),
	                 ACM_M_SIZE_BOUNDS);
	assert_int_equal(acm_hist_bucket(acm_m_latency_bounds, ACM_M_LATENCY_BOUNDS,
	                                 6000000000u), ACM_M_LATENCY_BOUNDS);
}

static void test_labels(void **state)
{
	(void)state;
	assert_string_equal(acm_m_qtype_name(acm_m_qtype_index(1)), "A");
	assert_string_equal(acm_m_qtype_name(acm_m_qtype_index(252)), "AXFR");
	assert_string_equal(acm_m_qtype_name(acm_m_qtype_index(65)), "OTHER");
	assert_string_equal(acm_m_rcode_name(acm_m_rcode_index(3)), "NXDOMAIN");
	assert_string_equal(acm_m_rcode_name(acm_m_rcode_index(9)), "NOTAUTH");
	assert_string_equal(acm_m_rcode_name(acm_m_rcode_index(16)), "OTHER");
	assert_string_equal(acm_m_rcode_name(acm_m_rcode_index(-1)), "OTHER");
}

static void test_exposition(void **state)
{
	(void)state;
	acm_expo_t e;
	acm_expo_init(&e);
	acm_expo_family(&e, "x_total", "counter", "a \\ b\nc \"q\"");
	acm_label_t l[] = { { "a", "q\"b\\s\nn" }, { "b", "" } };
	acm_expo_u64(&e, "x_total", l, 2, 7);
	acm_expo_u64(&e, "x_total", NULL, 0, 18446744073709551615ull);
	assert_false(e.oom);
	assert_string_equal(e.buf,
	                    "# HELP x_total a \\\\ b\\nc \"q\"\n"
	                    "# TYPE x_total counter\n"
	                    "x_total{a=\"q\\\"b\\\\s\\nn\",b=\"\"} 7\n"
	                    "x_total 18446744073709551615\n");
	acm_expo_free(&e);
}

static void test_histogram_text(void **state)
{
	(void)state;
	static const uint64_t bounds[] = { 500000, 1000000000 };
	uint64_t counts[] = { 2, 0, 1 };
	acm_expo_t e;
	acm_expo_init(&e);
	acm_expo_histogram(&e, "h", &(acm_label_t){ "r", "/x" }, 1, counts, bounds, 2, 1e9,
	                   3000000000u);
	assert_string_equal(e.buf,
	                    "h_bucket{r=\"/x\",le=\"0.0005\"} 2\n"
	                    "h_bucket{r=\"/x\",le=\"1\"} 2\n"
	                    "h_bucket{r=\"/x\",le=\"+Inf\"} 3\n"
	                    "h_sum{r=\"/x\"} 3\n"
	                    "h_count{r=\"/x\"} 3\n");
	acm_expo_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_blocks),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_histogram_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
