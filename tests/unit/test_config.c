#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static char dir[] = "/tmp/wsusd-test-config-XXXXXX";

static void
write_conf(const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/wsusd.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_port_rule(void **state)
{
	(void)state;
	assert_int_equal(config_http_port_for(443), 80);
	assert_int_equal(config_http_port_for(8531), 8530);
	assert_int_equal(config_http_port_for(9443), 9442);
	assert_int_equal(config_http_port_for(81), 80);
	assert_int_equal(config_http_port_for(2), 1);
	assert_int_equal(config_http_port_for(1), 0);
}

static void
test_defaults(void **state)
{
	struct config *cf = NULL;
	struct wsd_err e;

	(void)state;
	write_conf("");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_int_equal(cf->cf_https_port, 8531);
	assert_int_equal(cf->cf_http_port, 8530);
	assert_false(cf->cf_allow_insecure_http);
	assert_true(cf->cf_listen_default);
	assert_int_equal(cf->cf_max_body[VROOT_CLIENT], 1024 * 1024);
	assert_non_null(strstr(cf->cf_tls_key, "/tls/server.key"));
	config_free(cf);
}

static void
test_keys_and_override(void **state)
{
	struct config_overrides ov = { .port = 443, .nlisten = 1,
		.listen = { "::1" } };
	struct config *cf = NULL;
	struct wsd_err e;

	(void)state;
	write_conf("# comment\nport = 9000\nallow_insecure_http = yes\n"
		   "client_side_targeting = yes\n"
		   "max_body_clientwebservice = 2M\nserver_name = wsus.example\n"
		   "listen = 127.0.0.1\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_int_equal(cf->cf_https_port, 9000);
	assert_int_equal(cf->cf_http_port, 8999);
	assert_true(cf->cf_allow_insecure_http);
	assert_true(cf->cf_client_side_targeting);
	assert_int_equal(cf->cf_max_body[VROOT_CLIENT], 2 * 1024 * 1024);
	assert_string_equal(cf->cf_server_name, "wsus.example");
	assert_string_equal(cf->cf_listen[0], "127.0.0.1");
	config_free(cf);
	assert_int_equal(config_load(dir, &ov, &cf, &e), 0);
	assert_int_equal(cf->cf_https_port, 443);
	assert_int_equal(cf->cf_http_port, 80);
	assert_string_equal(cf->cf_listen[0], "::1");
	config_free(cf);
}

/* serversync_client_ca: off by default and when empty; a relative path
 * is in the data directory, an absolute one kept. */
static void
test_serversync_client_ca(void **state)
{
	struct config *cf = NULL;
	struct wsd_err e;
	const char *p;

	(void)state;
	write_conf("");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_null(cf->cf_serversync_client_ca);
	config_free(cf);
	write_conf("serversync_client_ca =\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_null(cf->cf_serversync_client_ca);
	config_free(cf);
	write_conf("serversync_client_ca = tls/client-ca.pem\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	p = cf->cf_serversync_client_ca;
	assert_non_null(p);
	assert_true(p[0] == '/');
	assert_true(strlen(p) > strlen("/tls/client-ca.pem"));
	assert_string_equal(p + strlen(p) - strlen("/tls/client-ca.pem"),
	    "/tls/client-ca.pem");
	assert_non_null(strstr(p, "wsusd-test-config-"));
	config_free(cf);
	write_conf("serversync_client_ca = /etc/wsusd/ds-ca.pem\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_string_equal(cf->cf_serversync_client_ca,
	    "/etc/wsusd/ds-ca.pem");
	assert_null(cf->cf_admin_client_ca);
	config_free(cf);
	/* admin_client_ca: the same rules, its own value. */
	write_conf("admin_client_ca =\nserversync_client_ca = a.pem\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_null(cf->cf_admin_client_ca);
	config_free(cf);
	write_conf("admin_client_ca = tls/admin-ca.pem\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	p = cf->cf_admin_client_ca;
	assert_non_null(p);
	assert_true(p[0] == '/');
	assert_string_equal(p + strlen(p) - strlen("/tls/admin-ca.pem"),
	    "/tls/admin-ca.pem");
	assert_null(cf->cf_serversync_client_ca);
	config_free(cf);
}

/* TEXT as wsusd.conf, which must load. */
static struct config *
load_ok(const char *text)
{
	struct config *cf = NULL;
	struct wsd_err e;

	write_conf(text);
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	return cf;
}

/* Each of BAD as wsusd.conf, which must be refused. */
static void
refused(const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct config *cf = NULL;
		struct wsd_err e;

		write_conf(bad[i]);
		assert_true(config_load(dir, NULL, &cf, &e) < 0);
		assert_null(cf);
	}
}

/* cookie_lifetime: an hour by default; 1 s to a week; 0, more than a
 * week or a word refused, wsusd.conf named. */
static void
test_cookie_lifetime(void **state)
{
	static const char *const bad[] = { "cookie_lifetime = 0\n",
		"cookie_lifetime = 604801\n", "cookie_lifetime = hour\n" };
	struct config *cf;

	(void)state;
	cf = load_ok("");
	assert_int_equal(cf->cf_cookie_lifetime, 3600);
	config_free(cf);
	cf = load_ok("cookie_lifetime = 2\n");
	assert_int_equal(cf->cf_cookie_lifetime, 2);
	config_free(cf);
	refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/* registrations_per_minute / registration_burst: 60 and 600 by default;
 * 0 a minute turns the limit off, a burst of 0 or a word is refused. */
static void
test_registration_limit(void **state)
{
	static const char *const bad[] = { "registration_burst = 0\n",
		"registrations_per_minute = 1000001\n",
		"registrations_per_minute = fast\n" };
	struct config *cf;

	(void)state;
	cf = load_ok("");
	assert_int_equal(cf->cf_registrations_per_minute, 60);
	assert_int_equal(cf->cf_registration_burst, 600);
	config_free(cf);
	cf = load_ok("registrations_per_minute = 0\nregistration_burst = 5\n");
	assert_int_equal(cf->cf_registrations_per_minute, 0);
	assert_int_equal(cf->cf_registration_burst, 5);
	config_free(cf);
	refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/* sync_proxy: none by default or empty; an http:// URL; anything else
 * refused (a socks or https proxy would not be asked to CONNECT). */
static void
test_sync_proxy(void **state)
{
	static const char *const bad[] = {
		"sync_proxy = socks5://127.0.0.1:1080\n",
		"sync_proxy = https://proxy.example:3128\n",
		"sync_proxy = proxy.example:3128\n" };
	struct config *cf;

	(void)state;
	cf = load_ok("");
	assert_null(cf->cf_sync_proxy);
	config_free(cf);
	cf = load_ok("sync_proxy =\n");
	assert_null(cf->cf_sync_proxy);
	config_free(cf);
	cf = load_ok("sync_proxy = http://proxy.example:3128\n");
	assert_string_equal(cf->cf_sync_proxy, "http://proxy.example:3128");
	config_free(cf);
	refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/* user: none by default and when empty; --user wins over the file;
 * names useradd would refuse are refused. */
static void
test_user(void **state)
{
	static const char *const bad[] = { "user = -root\n",
		"user = a b\n", "user = ../etc\n",
		"user = 123456789012345678901234567890123\n" };
	struct config_overrides ov = { .user = "wsusd-cli" };
	struct config *cf = NULL;
	struct wsd_err e;

	(void)state;
	write_conf("");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_null(cf->cf_user);
	config_free(cf);
	write_conf("user =\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_null(cf->cf_user);
	config_free(cf);
	write_conf("user = _wsusd.svc-1\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_string_equal(cf->cf_user, "_wsusd.svc-1");
	config_free(cf);
	assert_int_equal(config_load(dir, &ov, &cf, &e), 0);
	assert_string_equal(cf->cf_user, "wsusd-cli");
	config_free(cf);
	/* 32 bytes is the limit. */
	write_conf("user = 12345678901234567890123456789012\n");
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	config_free(cf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cf = NULL;
		write_conf(bad[i]);
		assert_true(config_load(dir, NULL, &cf, &e) < 0);
		assert_null(cf);
	}
	ov.user = "bad/name";
	write_conf("");
	assert_true(config_load(dir, &ov, &cf, &e) < 0);
}

static void
test_bad_files(void **state)
{
	static const char *const bad[] = {
		"nosuchkey = 1\n",
		"port = 70000\n",
		"port = 1\n",
		"port = -5\n",
		"allow_insecure_http = maybe\n",
		"just words\n",
		"listen = localhost\n",
		"server_name = bad_name!\n",
		"max_body_clientwebservice = 1T\n",
	};
	struct config *cf = NULL;
	struct wsd_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i]);
		assert_int_not_equal(config_load(dir, NULL, &cf, &e), 0);
	}
}

static void
test_file_set(void **state)
{
	struct config *cf = NULL;
	struct wsd_err e;
	char path[256];

	(void)state;
	write_conf("# keep me\nserver_name = old.example\nport = 9000\n");
	snprintf(path, sizeof(path), "%s/wsusd.conf", dir);
	assert_int_equal(config_file_set(path, "server_name", "new.example",
			     &e), 0);
	assert_int_equal(config_file_set(path, "allow_insecure_http", "no",
			     &e), 0);
	assert_int_not_equal(config_file_set(path, "server_name",
				 "a\nport = 1", &e), 0);
	assert_int_equal(config_load(dir, NULL, &cf, &e), 0);
	assert_string_equal(cf->cf_server_name, "new.example");
	assert_int_equal(cf->cf_https_port, 9000);
	config_free(cf);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_rule),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys_and_override),
		cmocka_unit_test(test_serversync_client_ca),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_cookie_lifetime),
		cmocka_unit_test(test_registration_limit),
		cmocka_unit_test(test_sync_proxy),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_file_set),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
