/*
 * conffile.c: the "key = value" configuration file (see conffile.h).
 *
 * The whole file is copied into one buffer and split in place: each
 * item's value points into that copy, NUL-terminated where its line
 * (or closing quote) ended.  Lines are found with memchr on the known
 * length, so the input needs no terminator and a NUL byte inside it is
 * refused rather than silently ending a line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conffile.h"
#include "core/i18n.h"
#include "xalloc.h"

static bool
conffile_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim [*b, *e) of surrounding white space. */
static void
conffile_trim(char **b, char **e)
{
	while (*b < *e && conffile_space(**b))
		(*b)++;
	while (*e > *b && conffile_space((*e)[-1]))
		(*e)--;
}

static const struct conffile_opt *
conffile_find(const struct conffile_opt *opts, size_t nopts, const char *k,
    size_t klen)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (strlen(opts[i].name) == klen &&
		    memcmp(opts[i].name, k, klen) == 0)
			return &opts[i];
	return NULL;
}

/* 1 true, 0 false, -1 neither. */
static int
conffile_bool(const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Parse one line [b, e) (its newline excluded) at byte offset off.
 * The key is shown in messages at most this long, so that a runaway
 * line cannot fill the error message.
 */
#define CONFFILE_KEY_SHOWN	40

static int
conffile_line(struct conffile *cf, char *b, char *e, size_t off,
    const struct conffile_opt *opts, size_t nopts, struct thr_error *err)
{
	const struct conffile_opt *o;
	char *k, *ke, *v = NULL, *ve = NULL, *eq;
	int on;

	if (memchr(b, '\0', (size_t)(e - b)) != NULL)
		return thr_error_set(err, THR_EINVAL, off, "%s",
		    _("NUL byte in the line"));
	conffile_trim(&b, &e);
	if (b == e || *b == '#')
		return 0;
	k = b;
	eq = memchr(b, '=', (size_t)(e - b));
	ke = eq != NULL ? eq : e;
	if (eq != NULL) {
		v = eq + 1;
		ve = e;
		conffile_trim(&k, &ke);
		conffile_trim(&v, &ve);
	}
	/* Tolerate "--key": people paste from the command line. */
	if (ke - k > 2 && k[0] == '-' && k[1] == '-')
		k += 2;
	if (k == ke)
		return thr_error_set(err, THR_EINVAL, off, "%s",
		    _("missing option name before '='"));
	if ((o = conffile_find(opts, nopts, k, (size_t)(ke - k))) == NULL)
		return thr_error_set(err, THR_EINVAL, off,
		    _("unknown option '%.*s'"),
		    (int)(ke - k > CONFFILE_KEY_SHOWN ? CONFFILE_KEY_SHOWN :
		    ke - k), k);
	if (v != NULL && ve - v >= 2 && (*v == '"' || *v == '\'') &&
	    ve[-1] == *v) {
		v++;
		ve--;
	} else if (v != NULL && v < ve && (*v == '"' || *v == '\''))
		return thr_error_set(err, THR_EINVAL, off,
		    _("unterminated quote in the value of '%s'"), o->name);
	if (cf->n == CONFFILE_MAX_ITEMS)
		return thr_error_set(err, THR_ELIMIT, off,
		    _("more than %d options"), CONFFILE_MAX_ITEMS);
	if (o->has_arg) {
		if (v == NULL || v == ve)
			return thr_error_set(err, THR_EINVAL, off,
			    _("option '%s' needs a value: %s = VALUE"),
			    o->name, o->name);
		*ve = '\0';	/* the newline, closing quote or a space */
	} else if (v != NULL) {
		/* The end may be the buffer's last byte: compare bounded. */
		char word[8];
		size_t wl = (size_t)(ve - v);

		if (wl >= sizeof(word))
			on = -1;
		else {
			memcpy(word, v, wl);
			word[wl] = '\0';
			on = conffile_bool(word);
		}
		if (on < 0)
			return thr_error_set(err, THR_EINVAL, off,
			    _("option '%s' is a switch: use true or false"),
			    o->name);
		if (on == 0)
			return 0;
		v = NULL;
	}
	cf->items[cf->n].name = o->name;
	cf->items[cf->n].value = v;
	cf->items[cf->n].line = cf->err_line;
	cf->n++;
	return 0;
}

int
conffile_parse(struct conffile *cf, const char *data, size_t len,
    const struct conffile_opt *opts, size_t nopts, struct thr_error *err)
{
	size_t off = 0;
	int rc;

	memset(cf, 0, sizeof(*cf));
	if (len > CONFFILE_MAX_BYTES)
		return thr_error_set(err, THR_ELIMIT, 0,
		    _("larger than %d bytes"), CONFFILE_MAX_BYTES);
	/* One spare byte: the last line's value is terminated there. */
	if ((cf->text = thr_malloc(len + 1)) == NULL ||
	    (cf->items = thr_calloc(CONFFILE_MAX_ITEMS,
	    sizeof(*cf->items))) == NULL) {
		free(cf->text);
		cf->text = NULL;
		return thr_error_set(err, THR_ENOMEM, 0, "%s",
		    _("out of memory"));
	}
	if (len > 0)
		memcpy(cf->text, data, len);
	cf->text[len] = '\0';
	while (off < len) {
		char *b = cf->text + off;
		char *nl = memchr(b, '\n', len - off);
		char *e = nl != NULL ? nl : cf->text + len;

		cf->err_line++;
		rc = conffile_line(cf, b, e, off, opts, nopts, err);
		if (rc != 0)
			return rc;
		off = (size_t)(e - cf->text) + 1;
	}
	cf->err_line = 0;
	return 0;
}

void
conffile_release(struct conffile *cf)
{
	free(cf->text);
	free(cf->items);
	cf->text = NULL;
	cf->items = NULL;
	cf->n = 0;
}

bool
conffile_default_path(const char *xdg_config_home, const char *home,
    char *out, size_t len)
{
	int n;

	if (len == 0)
		return false;
	out[0] = '\0';
	if (xdg_config_home != NULL && xdg_config_home[0] == '/')
		n = snprintf(out, len, "%s/thorrent/config", xdg_config_home);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, len, "%s/.config/thorrent/config", home);
	else
		return false;
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		return false;
	}
	return true;
}
