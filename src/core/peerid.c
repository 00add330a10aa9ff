/*
 * peerid.c: client names from peer ids.
 *
 * A peer id is 20 untrusted bytes.  We recognise a few conventions (see
 * peerid.h and BEP 20) and look at fixed positions only, so every byte
 * read is inside the array and nothing depends on a NUL.  Every byte we
 * copy to the output is checked to be an ASCII letter or digit; the rest
 * of the output comes from our own table and decimal numbers, so the
 * result is printable ASCII whatever the id holds.
 *
 * Azureus style "-XXvvvv-": version chars are base-36 digits (0-9, then
 * A-Z for 10-35, the way libtorrent and others spell versions above 9),
 * printed as "a.b.c.d" with a zero fourth part dropped.  Clients with
 * their own version layout get a formatter in the table.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "peerid.h"

/* Version layouts of Azureus-style ids. */
enum peerid_fmt {
	PEERID_FMT_GENERIC,	/* a.b.c[.d] */
	PEERID_FMT_TRANSMISSION,	/* see peerid_transmission */
	PEERID_FMT_MNEMONIC,	/* a.b.c plus a build letter (uTorrent) */
	PEERID_FMT_TWO_TWO,	/* aa.bb: two digits major, two minor */
};

struct peerid_client {
	char		 code[3];
	const char	*name;
	enum peerid_fmt	 fmt;
};

/*
 * Two-letter codes as listed by BEP 20 and the clients' sources.  Note
 * the case: "LT" is arvidn's libtorrent-rasterbar ("-LT2080-" is 2.0.8),
 * "lt" is rakshasa's libTorrent under rTorrent ("-lt0D80-" is 0.13.8).
 */
static const struct peerid_client peerid_table[] = {
	{ "AZ", "Vuze", PEERID_FMT_GENERIC },
	{ "BC", "BitComet", PEERID_FMT_TWO_TWO },
	{ "BI", "BiglyBT", PEERID_FMT_GENERIC },
	{ "BT", "BitTorrent", PEERID_FMT_MNEMONIC },
	{ "DE", "Deluge", PEERID_FMT_GENERIC },
	{ "FD", "Free Download Manager", PEERID_FMT_GENERIC },
	{ "KT", "KTorrent", PEERID_FMT_GENERIC },
	{ "LT", "libtorrent-rasterbar", PEERID_FMT_GENERIC },
	{ "LW", "LimeWire", PEERID_FMT_GENERIC },
	{ "SD", "Thunder", PEERID_FMT_GENERIC },
	{ "TH", "thorrent", PEERID_FMT_GENERIC },
	{ "TR", "Transmission", PEERID_FMT_TRANSMISSION },
	{ "UM", "uTorrent Mac", PEERID_FMT_MNEMONIC },
	{ "UT", "uTorrent", PEERID_FMT_MNEMONIC },
	{ "WW", "WebTorrent", PEERID_FMT_TWO_TWO },
	{ "XL", "Xunlei", PEERID_FMT_GENERIC },
	{ "lt", "libtorrent", PEERID_FMT_GENERIC },
	{ "qB", "qBittorrent", PEERID_FMT_GENERIC },
};

/* Shadow-style first letters. */
static const struct {
	char		 c;
	const char	*name;
} peerid_shadow[] = {
	{ 'A', "ABC" },
	{ 'O', "Osprey" },
	{ 'Q', "BTQueue" },
	{ 'R', "Tribler" },
	{ 'S', "Shadow" },
	{ 'T', "BitTornado" },
	{ 'U', "UPnP NAT" },
};

#define PEERID_SHADOW_MAXVER	5	/* version chars after the letter */
#define PEERID_ARIA2_MAXDIGITS	4	/* per number; bounds the output */

static bool
peerid_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
peerid_isalnum(uint8_t c)
{
	return peerid_isdigit(c) || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* 0-9 then A-Z as 10-35; -1 for anything else. */
static int
peerid_b36(uint8_t c)
{
	if (peerid_isdigit(c))
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return -1;
}

/* Shadow's alphabet: 0-9, A-Z, a-z, '.' are 0..62 ('-' pads). */
static int
peerid_shadow_val(uint8_t c)
{
	int v = peerid_b36(c);

	if (v >= 0)
		return v;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	if (c == '.')
		return 62;
	return -1;
}

/* Two decimal digits at p, or -1. */
static int
peerid_dec2(const uint8_t *p)
{
	if (!peerid_isdigit(p[0]) || !peerid_isdigit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static const char *
peerid_mnemonic(uint8_t c)
{
	switch (c) {
	case 'B':
	case 'b':
		return " beta";
	case 'X':
	case 'x':
	case 'Z':
		return " dev";
	default:
		return "";
	}
}

/*
 * Transmission: "-TR0006-" 0.6, "-TR0072-" 0.72, then a major digit, two
 * minor digits and a build char up to 3.00 ("-TR300Z-" is 3.00+, 'Z' a
 * development build, 'X' a beta).  From 4.0 on the three chars are
 * major.minor.patch ("-TR4060-" 4.0.6), 'Z' dev and 'B' beta.
 */
static void
peerid_transmission(const char *name, const uint8_t *v, char *out,
    size_t len)
{
	int a = peerid_b36(v[0]), b = peerid_b36(v[1]), c = peerid_b36(v[2]);
	int m;
	const char *suf;

	if (a < 0 || b < 0 || c < 0) {
		snprintf(out, len, "%s", name);
		return;
	}
	if (a >= 4) {
		suf = v[3] == 'Z' ? "+" : v[3] == 'B' ? " beta" : "";
		snprintf(out, len, "%s %d.%d.%d%s", name, a, b, c, suf);
		return;
	}
	if (a == 0 && b == 0 && c == 0 && peerid_isdigit(v[3])) {
		snprintf(out, len, "%s 0.%d", name, v[3] - '0');
		return;
	}
	if (a == 0 && b == 0 && (m = peerid_dec2(v + 2)) >= 0) {
		snprintf(out, len, "%s 0.%02d", name, m);
		return;
	}
	if ((m = peerid_dec2(v + 1)) < 0) {
		snprintf(out, len, "%s", name);
		return;
	}
	suf = v[3] == 'Z' ? "+" : v[3] == 'X' ? " beta" : "";
	snprintf(out, len, "%s %d.%02d%s", name, a, m, suf);
}

/* Azureus-style version chars v[0..3] for a client called name. */
static void
peerid_azureus_version(const char *name, enum peerid_fmt fmt,
    const uint8_t *v, char *out, size_t len)
{
	int d[4], i, hi, lo;

	for (i = 0; i < 4; i++)
		d[i] = peerid_b36(v[i]);

	switch (fmt) {
	case PEERID_FMT_TRANSMISSION:
		peerid_transmission(name, v, out, len);
		return;
	case PEERID_FMT_TWO_TWO:
		if ((hi = peerid_dec2(v)) < 0 || (lo = peerid_dec2(v + 2)) < 0)
			break;
		if (strcmp(name, "BitComet") == 0)
			snprintf(out, len, "%s %d.%02d", name, hi, lo);
		else
			snprintf(out, len, "%s %d.%d", name, hi, lo);
		return;
	case PEERID_FMT_MNEMONIC:
		if (d[0] < 0 || d[1] < 0 || d[2] < 0)
			break;
		snprintf(out, len, "%s %d.%d.%d%s", name, d[0], d[1], d[2],
		    peerid_mnemonic(v[3]));
		return;
	case PEERID_FMT_GENERIC:
		if (d[0] < 0 || d[1] < 0 || d[2] < 0)
			break;
		/* A zero (or, for Deluge's build tag, a lowercase or
		 * otherwise non-digit) fourth char is not printed. */
		if (d[3] <= 0)
			snprintf(out, len, "%s %d.%d.%d", name, d[0], d[1],
			    d[2]);
		else
			snprintf(out, len, "%s %d.%d.%d.%d", name, d[0], d[1],
			    d[2], d[3]);
		return;
	}
	/* The version does not parse: the name alone is still useful. */
	snprintf(out, len, "%s", name);
}

static bool
peerid_azureus(const uint8_t id[20], char *out, size_t len)
{
	char code[3];
	size_t i;

	if (id[0] != '-' || id[7] != '-' || !peerid_isalnum(id[1]) ||
	    !peerid_isalnum(id[2]))
		return false;
	for (i = 0; i < sizeof(peerid_table) / sizeof(peerid_table[0]); i++) {
		if ((uint8_t)peerid_table[i].code[0] != id[1] ||
		    (uint8_t)peerid_table[i].code[1] != id[2])
			continue;
		peerid_azureus_version(peerid_table[i].name,
		    peerid_table[i].fmt, id + 3, out, len);
		return true;
	}
	/* An unknown client in a known layout: show its code, but only with
	 * a version that parses, or random bytes would pass for a name. */
	for (i = 3; i < 7; i++)
		if (peerid_b36(id[i]) < 0)
			return false;
	code[0] = (char)id[1];
	code[1] = (char)id[2];
	code[2] = '\0';
	peerid_azureus_version(code, PEERID_FMT_GENERIC, id + 3, out, len);
	return true;
}

/* aria2: "A2-" then numbers each followed by '-' ("A2-1-36-0-"). */
static bool
peerid_aria2(const uint8_t id[20], char *out, size_t len)
{
	unsigned n[3];
	size_t p = 3, k, digits;

	if (memcmp(id, "A2-", 3) != 0)
		return false;
	for (k = 0; k < 3; k++) {
		n[k] = 0;
		for (digits = 0; p < 20 && peerid_isdigit(id[p]); p++) {
			if (++digits > PEERID_ARIA2_MAXDIGITS)
				return false;
			n[k] = n[k] * 10 + (unsigned)(id[p] - '0');
		}
		if (digits == 0 || p >= 20 || id[p] != '-')
			return false;
		p++;
	}
	snprintf(out, len, "aria2 %u.%u.%u", n[0], n[1], n[2]);
	return true;
}

/* Mainline: 'M' then "major-minor-patch-" padded with '-' to 8 chars
 * ("M4-3-6--"), each number one or two digits. */
static bool
peerid_mainline(const uint8_t id[20], char *out, size_t len)
{
	unsigned n[3];
	size_t p = 1, k, digits;

	if (id[0] != 'M')
		return false;
	for (k = 0; k < 3; k++) {
		n[k] = 0;
		for (digits = 0; p < 8 && peerid_isdigit(id[p]); p++) {
			if (++digits > 2)
				return false;
			n[k] = n[k] * 10 + (unsigned)(id[p] - '0');
		}
		if (digits == 0 || p >= 8 || id[p] != '-')
			return false;
		p++;
	}
	for (; p < 8; p++)
		if (id[p] != '-')
			return false;
	snprintf(out, len, "Mainline %u.%u.%u", n[0], n[1], n[2]);
	return true;
}

/*
 * Shadow: a letter, up to five version chars padded with '-' to six
 * bytes ("S58B--" is 5.8.11); a full five-char version must still be
 * followed by '-', so that random ids rarely look like one.
 */
static bool
peerid_shadow_style(const uint8_t id[20], char *out, size_t len)
{
	const char *name = NULL;
	size_t i, nver, pos;
	int v;

	for (i = 0; i < sizeof(peerid_shadow) / sizeof(peerid_shadow[0]); i++)
		if ((uint8_t)peerid_shadow[i].c == id[0])
			name = peerid_shadow[i].name;
	if (name == NULL)
		return false;
	for (nver = 0; nver < PEERID_SHADOW_MAXVER; nver++)
		if (peerid_shadow_val(id[1 + nver]) < 0)
			break;
	if (nver == 0 || id[1 + nver] != '-')
		return false;
	for (i = 1 + nver; i <= PEERID_SHADOW_MAXVER; i++)
		if (id[i] != '-')
			return false;

	pos = (size_t)snprintf(out, len, "%s ", name);
	for (i = 0; i < nver && pos < len; i++) {
		v = peerid_shadow_val(id[1 + i]);
		pos += (size_t)snprintf(out + pos, len - pos, "%s%d",
		    i > 0 ? "." : "", v);
	}
	return true;
}

void
peerid_client(const uint8_t id[20], char *out, size_t len)
{
	if (len == 0)
		return;
	if (peerid_azureus(id, out, len) || peerid_aria2(id, out, len) ||
	    peerid_mainline(id, out, len) || peerid_shadow_style(id, out, len))
		return;
	snprintf(out, len, "unknown");
}
