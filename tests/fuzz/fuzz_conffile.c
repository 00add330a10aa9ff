/*
 * fuzz_conffile.c: libFuzzer target for the configuration file parser
 * (conffile_parse).
 *
 * The whole input is one file.  Invariants checked: only the documented
 * return codes; on error a line number from 1 to the number of lines;
 * on success at most CONFFILE_MAX_ITEMS items, each named from the
 * option table, with a value exactly when the option takes one, in file
 * order (line numbers never go down), and each value a NUL-terminated
 * string without a newline inside the parser's own copy.  A broken
 * promise aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conffile.h"
#include "core/err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct conffile_opt fuzz_opts[] = {
	{ "path", true }, { "peer", true }, { "port", true },
	{ "max-peers", true }, { "no-dht", false }, { "no-tui", false },
	{ "log", true }, { "seed-ratio", true },
};
#define FUZZ_NOPTS	(sizeof(fuzz_opts) / sizeof(fuzz_opts[0]))

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_conffile: broken invariant: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conffile cf;
	struct thr_error err;
	size_t i, lines = 1;
	unsigned last = 0;
	int rc;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	memset(&err, 0, sizeof(err));
	rc = conffile_parse(&cf, (const char *)data, size, fuzz_opts,
	    FUZZ_NOPTS, &err);
	if (rc != 0) {
		if (rc != THR_EINVAL && rc != THR_ELIMIT && rc != THR_ENOMEM)
			fail("undocumented return code");
		if (err.code != rc || err.msg[0] == '\0')
			fail("error not recorded");
		if (rc != THR_ENOMEM && size <= CONFFILE_MAX_BYTES &&
		    (cf.err_line < 1 || cf.err_line > lines))
			fail("error line out of range");
		conffile_release(&cf);
		return 0;
	}
	if (cf.n > CONFFILE_MAX_ITEMS)
		fail("too many items");
	for (i = 0; i < cf.n; i++) {
		const struct conffile_item *it = &cf.items[i];
		const struct conffile_opt *o = NULL;

		for (size_t k = 0; k < FUZZ_NOPTS; k++)
			if (it->name == fuzz_opts[k].name)
				o = &fuzz_opts[k];
		if (o == NULL)
			fail("item not named from the table");
		if ((it->value != NULL) != o->has_arg)
			fail("value present exactly when the option takes one");
		if (it->line < last || it->line < 1 || it->line > lines)
			fail("line numbers out of order or range");
		last = it->line;
		if (it->value != NULL && (it->value < cf.text ||
		    it->value > cf.text + size ||
		    strchr(it->value, '\n') != NULL))
			fail("value outside the copy or spans lines");
	}
	conffile_release(&cf);
	return 0;
}
