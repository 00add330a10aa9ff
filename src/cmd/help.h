/*
 * help.h: the text of "thorrent --version": the library versions do not
 * crowd the option parser.
 */
#ifndef THR_CMD_HELP_H
#define THR_CMD_HELP_H

#include <stdio.h>

/* Version, the versions of the libraries in use, compiled-in features. */
void	help_version(FILE *fp);

#endif
