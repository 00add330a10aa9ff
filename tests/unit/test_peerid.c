/*
 * test_peerid.c: client names decoded from peer ids (core/peerid.h):
 * the Azureus two-letter table with each client's version layout, aria2,
 * Shadow and Mainline styles, unknown and hostile ids, and the output's
 * bounds.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/peerid.h"

/* A 20-byte id: prefix, then filler bytes up to 20. */
static void
id_make(uint8_t id[20], const char *prefix, uint8_t fill)
{
	size_t n = strlen(prefix);

	memset(id, fill, 20);
	memcpy(id, prefix, n > 20 ? 20 : n);
}

static void
check(const char *prefix, const char *want)
{
	uint8_t id[20];
	char out[PEERID_NAME_MAX];

	/* The filler must not matter: try printable and binary tails. */
	id_make(id, prefix, '7');
	peerid_client(id, out, sizeof(out));
	cr_assert_str_eq(out, want, "id \"%s\"", prefix);
	id_make(id, prefix, 0xff);
	peerid_client(id, out, sizeof(out));
	cr_assert_str_eq(out, want, "id \"%s\" (binary tail)", prefix);
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

Test(peerid, transmission)
{
	check("-TR3000-", "Transmission 3.00");
	check("-TR300Z-", "Transmission 3.00+");
	check("-TR294Z-", "Transmission 2.94+");
	check("-TR250X-", "Transmission 2.50 beta");
	check("-TR0072-", "Transmission 0.72");
	check("-TR0006-", "Transmission 0.6");
	check("-TR4060-", "Transmission 4.0.6");
	check("-TR400B-", "Transmission 4.0.0 beta");
	check("-TR401Z-", "Transmission 4.0.1+");
}

Test(peerid, libtorrents)
{
	/* rakshasa's libTorrent spells 13 as 'D'. */
	check("-lt0D80-", "libtorrent 0.13.8");
	check("-lt0C60-", "libtorrent 0.12.6");
	check("-LT2080-", "libtorrent-rasterbar 2.0.8");
	check("-LT12J0-", "libtorrent-rasterbar 1.2.19");
}

Test(peerid, azureus_table)
{
	check("-qB4520-", "qBittorrent 4.5.2");
	check("-qB4A10-", "qBittorrent 4.10.1");
	check("-DE13F0-", "Deluge 1.3.15");
	check("-DE211s-", "Deluge 2.1.1");
	check("-UT355W-", "uTorrent 3.5.5");
	check("-UT360B-", "uTorrent 3.6.0 beta");
	check("-UM1870-", "uTorrent Mac 1.8.7");
	check("-AZ5750-", "Vuze 5.7.5");
	check("-BI3500-", "BiglyBT 3.5.0");
	check("-KT4130-", "KTorrent 4.1.3");
	check("-FD6100-", "Free Download Manager 6.1.0");
	check("-TH0100-", "thorrent 0.1.0");
	check("-BC0150-", "BitComet 1.50");
	check("-WW0108-", "WebTorrent 1.8");
	check("-XL0012-", "Xunlei 0.0.1.2");
	check("-SD0100-", "Thunder 0.1.0");
	check("-LW0500-", "LimeWire 0.5.0");
	check("-BT7950-", "BitTorrent 7.9.5");
}

Test(peerid, known_code_bad_version_keeps_the_name)
{
	check("-TR\x01\x02\x03\x04-", "Transmission");
	check("-qB\x7f" "520-", "qBittorrent");
	check("-BCxx50-", "BitComet");
}

Test(peerid, unknown_azureus_code)
{
	check("-ZZ1234-", "ZZ 1.2.3.4");
	check("-Zz1230-", "Zz 1.2.3");
	check("-Q91A00-", "Q9 1.10.0");
	/* Unknown code and no readable version: not a name at all. */
	check("-ZZ12\x01" "4-", "unknown");
	check("-Z\x01" "1234-", "unknown");
	check("-ZZ1234\x00", "unknown");
}

Test(peerid, aria2)
{
	check("A2-1-36-0-", "aria2 1.36.0");
	check("A2-0-9-12-", "aria2 0.9.12");
	check("A2-1-36-", "unknown");
	check("A2-1--0-", "unknown");
	check("A2-123456-1-1-", "unknown");
}

Test(peerid, shadow_style)
{
	check("S58B-----", "Shadow 5.8.11");
	check("T03I--", "BitTornado 0.3.18");
	check("A310--", "ABC 3.1.0");
	check("O1----", "Osprey 1");
	check("R37a.-", "Tribler 3.7.36.62");
	check("Q1234-", "BTQueue 1.2.3.4");
	check("U12345-", "UPnP NAT 1.2.3.4.5");
	/* Six version chars is not Shadow style. */
	check("S123456", "unknown");
	/* A letter outside the set. */
	check("Z58B-----", "unknown");
	/* No version at all. */
	check("S-----", "unknown");
	/* Padding must be dashes. */
	check("S58B-x---", "unknown");
}

Test(peerid, mainline)
{
	check("M4-3-6--", "Mainline 4.3.6");
	check("M7-10-2-", "Mainline 7.10.2");
	check("M4-3-6-x", "unknown");
	check("M4-3---", "unknown");
	check("M123-4-5", "unknown");
}

Test(peerid, garbage)
{
	uint8_t id[20];
	char out[PEERID_NAME_MAX];
	unsigned seed, i;

	memset(id, 0, sizeof(id));
	peerid_client(id, out, sizeof(out));
	cr_assert_str_eq(out, "unknown");
	memset(id, 0xff, sizeof(id));
	peerid_client(id, out, sizeof(out));
	cr_assert_str_eq(out, "unknown");
	check("\x1b[31mHELLO\x1b[0m", "unknown");
	check("exbc\x01\x02LORDxxxxxx", "unknown");
	check("--------------------", "unknown");

	/* Random ids: always terminated, printable and bounded. */
	for (seed = 1; seed < 20000; seed++) {
		uint32_t x = seed * 2654435761u;

		for (i = 0; i < 20; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			id[i] = (uint8_t)x;
		}
		/* Steer some into the recognised shapes. */
		if (seed % 4 == 0) {
			id[0] = '-';
			id[7] = '-';
		} else if (seed % 4 == 1)
			id[0] = "AOQRSTUM"[seed % 8];
		memset(out, 'x', sizeof(out));
		peerid_client(id, out, sizeof(out));
		cr_assert_lt(strlen(out), sizeof(out));
		cr_assert(printable(out), "seed %u", seed);
	}
}

Test(peerid, output_is_truncated_to_len)
{
	uint8_t id[20];
	char out[8];

	id_make(id, "-TR3000-", 'x');
	memset(out, 'x', sizeof(out));
	peerid_client(id, out, 5);
	cr_assert_str_eq(out, "Tran");
	cr_assert_eq(out[5], 'x');
	peerid_client(id, out, 1);
	cr_assert_str_eq(out, "");
	out[0] = 'x';
	peerid_client(id, out, 0);
	cr_assert_eq(out[0], 'x');
	/* Shadow builds its output piecewise: truncation must hold too. */
	id_make(id, "U12345-", '-');
	peerid_client(id, out, 8);
	cr_assert_str_eq(out, "UPnP NA");
	peerid_client(id, out, 3);
	cr_assert_str_eq(out, "UP");
	/* Every real client name fits the peer's name field. */
	id_make(id, "-FD6100-", '-');
	{
		char big[PEERID_NAME_MAX];

		peerid_client(id, big, sizeof(big));
		cr_assert_str_eq(big, "Free Download Manager 6.1.0");
	}
}
