/*
 * conffile.h: the configuration file, one "key = value" per line.
 *
 * Each key is the name of a long option without its dashes; the caller
 * passes the table of names it accepts and whether each takes a value.
 * Lines are "key = value", "key" alone for a flag, blank, or a comment
 * starting with '#'.  Whitespace around key and value is dropped; a
 * value may be quoted with "..." or '...' to keep its outer spaces (no
 * escapes inside).  A flag takes no value or one of true/false, yes/no,
 * on/off, 1/0; a false flag is dropped, since options only switch on.
 *
 * The result is a list of items in file order, each with its line
 * number, so that the caller can apply them before the command line
 * (which then overrides them) and can blame a bad value on its line.
 *
 * Limits: the file is read whole, at most CONFFILE_MAX_BYTES, with at
 * most CONFFILE_MAX_ITEMS items; a line holding a NUL byte is an error.
 */
#ifndef THR_CONFFILE_H
#define THR_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* A config file is a few dozen short lines; anything far larger is
 * something else given by mistake. */
#define CONFFILE_MAX_BYTES	(64 * 1024)
/* More items than there are options times their repeat caps. */
#define CONFFILE_MAX_ITEMS	512

struct conffile_opt {
	const char	*name;		/* long option name, no dashes */
	bool		 has_arg;
};

struct conffile_item {
	const char	*name;		/* borrowed from the option table */
	const char	*value;		/* in the conffile's text; NULL: flag */
	unsigned	 line;		/* 1-based */
};

struct conffile {
	char			*text;	/* owned copy, split in place */
	struct conffile_item	*items;	/* owned */
	size_t			 n;
	unsigned		 err_line;	/* line of the last error, 0 */
};

/*
 * Parse len bytes of data (not NUL-terminated) against opts (nopts
 * entries, borrowed for the life of cf).  cf is initialised here and
 * must be released with conffile_release whatever the result.  Returns
 * 0, THR_EINVAL (unknown key, missing or unexpected value, bad flag
 * value, unterminated quote), THR_ELIMIT or THR_ENOMEM; on error err's
 * offset is the byte offset of the line, cf->err_line its number and
 * err->msg says what is wrong without the file name or line.
 */
int	conffile_parse(struct conffile *cf, const char *data, size_t len,
	    const struct conffile_opt *opts, size_t nopts,
	    struct thr_error *err);


/* Free what cf owns; safe on a zeroed or released cf. */
void	conffile_release(struct conffile *cf);

/*
 * The default path: $XDG_CONFIG_HOME/thorrent/config, or
 * $HOME/.config/thorrent/config when XDG_CONFIG_HOME is unset or not
 * absolute (the XDG base directory rules).  Both values are passed in
 * (NULL when unset) so that the function reads no environment.  Returns
 * false, with out empty, when neither gives an absolute directory or
 * the path does not fit in len bytes.
 */
bool	conffile_default_path(const char *xdg_config_home, const char *home,
	    char *out, size_t len);

#endif
