/*
 * help.h: the text of "thorrent --help" and "thorrent --version".
 *
 * Kept apart from run.c, which parses the options, so that the long
 * translated text and the library versions do not crowd the glue.
 */
#ifndef THR_CMD_HELP_H
#define THR_CMD_HELP_H

#include <stdio.h>

/* The grouped option list, translated, to fp (stdout or stderr). */
void	help_usage(FILE *fp);
/* Version, the versions of the libraries in use, compiled-in features. */
void	help_version(FILE *fp);

#endif
