/*
 * test_addr.c: numeric addresses without a port (--bind-address).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"

Test(addr, parse_ip_v4_and_v6)
{
	struct thr_addr a;
	char s[ADDR_STR_MAX];

	cr_assert_eq(addr_parse_ip("127.0.0.2", &a), 0);
	cr_assert_eq(a.family, 4);
	cr_assert_eq(a.port, 0);
	cr_assert(a.ip[0] == 127 && a.ip[1] == 0 && a.ip[2] == 0 &&
	    a.ip[3] == 2);
	addr_format_ip(&a, s, sizeof(s));
	cr_assert_str_eq(s, "127.0.0.2");
	cr_assert_eq(addr_parse_ip("::1", &a), 0);
	cr_assert_eq(a.family, 6);
	cr_assert_eq(a.ip[15], 1);
	addr_format_ip(&a, s, sizeof(s));
	cr_assert_str_eq(s, "::1");
	cr_assert_eq(addr_parse_ip("[fe80::2]", &a), 0);
	cr_assert_eq(a.family, 6);
	addr_format_ip(&a, s, sizeof(s));
	cr_assert_str_eq(s, "fe80::2");
}

Test(addr, parse_ip_refuses_the_rest)
{
	static const char *const bad[] = {
		"", "[]", "127.0.0.1:80", "[127.0.0.1]", "localhost",
		"1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "1.2.3.4 ",
		"::1%lo", "[::1", "::1]", "example.org",
		"12345678901234567890123456789012"
		"34567890123456789012345678901234",	/* 64: too long */
	};
	struct thr_addr a;

	memset(&a, 0x55, sizeof(a));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(addr_parse_ip(bad[i], &a), THR_EINVAL, "'%s'",
		    bad[i]);
	cr_assert_eq(addr_parse_ip(NULL, &a), THR_EINVAL);
	cr_assert_eq(a.family, 0x55555555, "a changed on error");
}

Test(addr, format_ip_of_nothing)
{
	struct thr_addr a;
	char s[ADDR_STR_MAX];

	memset(&a, 0, sizeof(a));
	addr_format_ip(&a, s, sizeof(s));
	cr_assert_str_eq(s, "?");
	a.family = 4;
	addr_format_ip(&a, s, 4);	/* too short: terminated anyway */
	cr_assert_eq(strlen(s), 1);
}
