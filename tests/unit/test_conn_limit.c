/* SPDX-License-Identifier: ISC */
/*
 * Connection accounting (lib/rt/conn_limit.c): caps per client (an IPv4
 * address, an IPv6 /64), per network (/24, /48) and in all, slots given
 * back, IPv4-mapped IPv6 peers counted as the IPv4 client they are; and
 * the accept guard's shedding (lib/rt/accept_guard.c) with a real listening
 * socket in a child process whose descriptors have run out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/rt/accept_guard.h"
#include "lib/rt/conn_limit.h"
#include "lib/error.h"

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

static int take(acm_conn_limit_t *l, const char *text, const acm_conn_caps_t *caps,
                acm_conn_slot_t *slot)
{
	struct sockaddr_storage ss = addr(text);
	return acm_conn_limit_take(l, (const struct sockaddr *)&ss, caps, slot);
}

static void test_per_client_ipv4(void **state)
{
	acm_conn_limit_t *l;
	acm_conn_slot_t s[4];
	acm_conn_caps_t caps = { .max_per_client = 2 };
	(void)state;
	assert_int_equal(acm_conn_limit_new(16, false, &l), ACM_OK);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[0]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[1]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[2]), ACM_CONN_CLIENT_FULL);
	assert_false(s[2].held);
	/* the address exactly: its neighbour is another client */
	assert_int_equal(take(l, "192.0.2.2", &caps, &s[3]), ACM_CONN_ADMITTED);
	assert_int_equal(acm_conn_limit_total(l), 3);
	/* a slot given back lets the client in again; giving twice is harmless */
	acm_conn_limit_release(l, &s[0]);
	acm_conn_limit_release(l, &s[0]);
	acm_conn_limit_release(l, &s[2]);
	assert_int_equal(acm_conn_limit_total(l), 2);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[0]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[2]), ACM_CONN_CLIENT_FULL);
	for (int i = 0; i < 4; i++)
		acm_conn_limit_release(l, &s[i]);
	assert_int_equal(acm_conn_limit_total(l), 0);
	acm_conn_limit_free(l);
}

/* One host usually owns a /64: every address in it is one client. */
static void test_per_client_ipv6_64(void **state)
{
	acm_conn_limit_t *l;
	acm_conn_slot_t s[4];
	acm_conn_caps_t caps = { .max_per_client = 2 };
	(void)state;
	assert_int_equal(acm_conn_limit_new(16, false, &l), ACM_OK);
	assert_int_equal(take(l, "2001:db8:1:2::1", &caps, &s[0]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "2001:db8:1:2:ffff::9", &caps, &s[1]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "2001:db8:1:2::abcd", &caps, &s[2]), ACM_CONN_CLIENT_FULL);
	assert_int_equal(take(l, "2001:db8:1:3::1", &caps, &s[3]), ACM_CONN_ADMITTED);
	acm_conn_limit_release(l, &s[1]);
	assert_int_equal(take(l, "2001:db8:1:2::abcd", &caps, &s[2]), ACM_CONN_ADMITTED);
	for (int i = 0; i < 4; i++)
		acm_conn_limit_release(l, &s[i]);
	assert_int_equal(acm_conn_limit_total(l), 0);
	acm_conn_limit_free(l);
}

/* A network (/24, /48) holds at most its share, whatever its clients. */
static void test_per_network(void **state)
{
	static const char *const v4[] = { "198.51.100.1", "198.51.100.2", "198.51.100.254",
		                          "198.51.100.9", "198.51.101.1" };
	static const char *const v6[] = { "2001:db8:5:1::1", "2001:db8:5:2::1", "2001:db8:5:ffff::1",
		                          "2001:db8:5:9::1", "2001:db8:6::1" };
	const char *const *sets[] = { v4, v6 };
	acm_conn_caps_t caps = { .max_per_client = 10, .max_per_network = 3 };
	(void)state;
	for (int k = 0; k < 2; k++) {
		acm_conn_limit_t *l;
		acm_conn_slot_t s[5];
		const char *const *a = sets[k];
		assert_int_equal(acm_conn_limit_new(16, true, &l), ACM_OK);
		for (int i = 0; i < 3; i++)
			assert_int_equal(take(l, a[i], &caps, &s[i]), ACM_CONN_ADMITTED);
		assert_int_equal(take(l, a[3], &caps, &s[3]), ACM_CONN_NETWORK_FULL);
		assert_int_equal(take(l, a[4], &caps, &s[4]), ACM_CONN_ADMITTED);
		acm_conn_limit_release(l, &s[0]);
		assert_int_equal(take(l, a[3], &caps, &s[3]), ACM_CONN_ADMITTED);
		for (int i = 0; i < 5; i++)
			acm_conn_limit_release(l, &s[i]);
		assert_int_equal(acm_conn_limit_total(l), 0);
		acm_conn_limit_free(l);
	}
	/* a table made without networks does not count them */
	acm_conn_limit_t *l;
	acm_conn_slot_t s[4];
	assert_int_equal(acm_conn_limit_new(16, false, &l), ACM_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(take(l, v4[i], &caps, &s[i]), ACM_CONN_ADMITTED);
	for (int i = 0; i < 4; i++)
		acm_conn_limit_release(l, &s[i]);
	acm_conn_limit_free(l);
}

/* The total cap comes first: a client under its own cap is still refused. */
static void test_total(void **state)
{
	acm_conn_limit_t *l;
	acm_conn_slot_t s[3];
	acm_conn_caps_t caps = { .max_total = 2, .max_per_client = 5, .max_per_network = 5 };
	(void)state;
	assert_int_equal(acm_conn_limit_new(1, true, &l), ACM_OK);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[0]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "2001:db8::1", &caps, &s[1]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "203.0.113.1", &caps, &s[2]), ACM_CONN_FULL);
	acm_conn_limit_release(l, &s[1]);
	assert_int_equal(take(l, "203.0.113.1", &caps, &s[2]), ACM_CONN_ADMITTED);
	acm_conn_limit_release(l, &s[0]);
	acm_conn_limit_release(l, &s[2]);
	acm_conn_limit_free(l);
}

/* An IPv6 socket sees IPv4 clients as ::ffff:a.b.c.d: they are the IPv4
 * client and its /24, not one /64 shared by every IPv4 address. */
static void test_ipv4_mapped(void **state)
{
	acm_conn_limit_t *l;
	acm_conn_slot_t s[4];
	acm_conn_caps_t caps = { .max_per_client = 1, .max_per_network = 2 };
	(void)state;
	assert_int_equal(acm_conn_limit_new(16, true, &l), ACM_OK);
	assert_int_equal(take(l, "192.0.2.1", &caps, &s[0]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "::ffff:192.0.2.1", &caps, &s[1]), ACM_CONN_CLIENT_FULL);
	assert_int_equal(take(l, "::ffff:192.0.2.2", &caps, &s[1]), ACM_CONN_ADMITTED);
	assert_int_equal(take(l, "192.0.2.3", &caps, &s[2]), ACM_CONN_NETWORK_FULL);
	/* another IPv4 network through the mapped form is another network */
	assert_int_equal(take(l, "::ffff:198.51.100.1", &caps, &s[3]), ACM_CONN_ADMITTED);
	/* released through the mapped form, counted as IPv4 */
	acm_conn_limit_release(l, &s[1]);
	assert_int_equal(take(l, "192.0.2.2", &caps, &s[1]), ACM_CONN_ADMITTED);
	for (int i = 0; i < 4; i++)
		acm_conn_limit_release(l, &s[i]);
	assert_int_equal(acm_conn_limit_total(l), 0);
	acm_conn_limit_free(l);
}

/* The table has no fixed size: past its hint it chains, every client
 * counted, and gives every entry back. Other families are one client. */
static void test_past_the_size_hint(void **state)
{
	enum { N = 5000 };
	acm_conn_limit_t *l;
	static acm_conn_slot_t s[N];
	acm_conn_caps_t caps = { .max_total = N + 1, .max_per_client = 1, .max_per_network = 1 };
	(void)state;
	assert_int_equal(acm_conn_limit_new(1, true, &l), ACM_OK);
	for (int i = 0; i < N; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		sa.sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)i << 8);   /* one per /24 */
		assert_int_equal(acm_conn_limit_take(l, (struct sockaddr *)&sa, &caps, &s[i]),
		                 ACM_CONN_ADMITTED);
	}
	assert_int_equal(acm_conn_limit_total(l), N);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	acm_conn_slot_t u[2];
	assert_int_equal(acm_conn_limit_take(l, (struct sockaddr *)&un, &caps, &u[0]),
	                 ACM_CONN_ADMITTED);
	assert_int_equal(acm_conn_limit_take(l, (struct sockaddr *)&un, &caps, &u[1]),
	                 ACM_CONN_FULL);
	acm_conn_limit_release(l, &u[0]);
	for (int i = 0; i < N; i++)
		acm_conn_limit_release(l, &s[i]);
	assert_int_equal(acm_conn_limit_total(l), 0);
	acm_conn_limit_free(l);
}

static void test_fit(void **state)
{
	struct rlimit old, rl;
	uint64_t limit;
	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = 100;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(acm_conn_limit_fit(1000, 50, &limit), 50);
	assert_int_equal(limit, 100);
	assert_int_equal(acm_conn_limit_fit(10, 50, &limit), 10);
	assert_int_equal(acm_conn_limit_fit(10, 0, &limit), 1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

/* ---- the accept guard ------------------------------------------------------ */

enum { CLIENTS = 3 };

/* Non-blocking, as a listener's socket is. */
static int listen_loopback(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &len), 0);
	return fd;
}

/* Take every descriptor the (lowered) limit leaves. */
static void exhaust(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	while (open("/dev/null", O_RDONLY) >= 0)
		;
}

struct reported {
	unsigned calls, shed;
	bool paused;
};

static void on_report(void *arg, int err, unsigned shed, bool paused)
{
	struct reported *r = arg;
	(void)err;
	r->calls++;
	r->shed += shed;
	r->paused = paused;
}

/* Out of descriptors, nothing can be accepted the ordinary way. */
static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	close(fd);
	_exit(7);
}

/* In the child: 0 when the guard shed exactly the waiting connections and
 * kept its reserve; otherwise the step that failed. */
static int child(int lfd, bool through_guard)
{
	int reserve = open("/dev/null", O_RDONLY);
	if (!through_guard) {
		exhaust();
		if (accept4(lfd, NULL, NULL, 0) >= 0 || errno != EMFILE)
			return 1;
		if (acm_accept_shed(lfd, &reserve, 64) != CLIENTS)
			return 2;
		if (reserve < 0)
			return 3;
		/* the reserve is held again: still no descriptor to spare */
		return open("/dev/null", O_RDONLY) >= 0 ? 4 : 0;
	}
	close(reserve);
	struct event_base *base = event_base_new();
	struct evconnlistener *lev = evconnlistener_new(base, on_accept, NULL, 0, 0, lfd);
	struct reported rep = { 0 };
	acm_accept_guard_t *g;
	if (!lev || acm_accept_guard_new(lev, NULL, on_report, &rep, &g) != ACM_OK)
		return 5;
	exhaust();
	for (int i = 0; i < 20 && rep.shed < CLIENTS; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	if (rep.calls == 0 || rep.shed != CLIENTS || !rep.paused)
		return 6;
	acm_accept_guard_free(g);
	return 0;
}

static void shed_in_child(bool through_guard)
{
	struct sockaddr_in sa;
	int lfd = listen_loopback(&sa);
	int c[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(c[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(lfd, through_guard));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* each waiting client learns at once: the server side is closed */
	for (int i = 0; i < CLIENTS; i++) {
		char b;
		struct timeval tv = { 5, 0 };
		setsockopt(c[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		assert_int_equal(recv(c[i], &b, 1, 0), 0);
		close(c[i]);
	}
	close(lfd);
}

static void test_shed_closes_waiting_and_keeps_reserve(void **state)
{
	(void)state;
	shed_in_child(false);
}

static void test_guard_sheds_when_accept_runs_out(void **state)
{
	(void)state;
	shed_in_child(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_client_ipv4),
		cmocka_unit_test(test_per_client_ipv6_64),
		cmocka_unit_test(test_per_network),
		cmocka_unit_test(test_total),
		cmocka_unit_test(test_ipv4_mapped),
		cmocka_unit_test(test_past_the_size_hint),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_shed_closes_waiting_and_keeps_reserve),
		cmocka_unit_test(test_guard_sheds_when_accept_runs_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
