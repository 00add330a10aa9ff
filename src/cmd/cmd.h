/*
 * cmd.h: the subcommands.  main.c parses nothing but the subcommand name
 * and hands argc/argv (argv[0] is the subcommand name, or "thorrent" for
 * the default download command) to one of these.  Each returns the
 * process exit status: 0 success, 1 error (one line on stderr already
 * printed), 2 bad usage.  Only main.c and cmd/ may exit.
 */
#ifndef THR_CMD_H
#define THR_CMD_H

#include <stdbool.h>

#define CMD_EXIT_OK	0
#define CMD_EXIT_ERROR	1
#define CMD_EXIT_USAGE	2

int	cmd_run(int argc, char **argv);		/* download and seed */
int	cmd_create(int argc, char **argv);	/* thorrent create */
int	cmd_info(int argc, char **argv);	/* thorrent info */
int	cmd_demo(int argc, char **argv);	/* thorrent demo */
int	cmd_swarm(int argc, char **argv);	/* thorrent swarm */

/*
 * The view or plain lines?  The view needs a terminal on stdin and
 * stdout that can address the cursor.  *use_view gets the answer; with
 * say, a terminal that cannot (TERM=dumb, TERM unset) is named in one
 * line on stderr.  Returns 0, or CMD_EXIT_ERROR after one line with a
 * hint when TERM names a terminal this system does not know.  Called
 * before anything is created, so a refusal leaves no trace.
 */
int	cmd_view_choice(bool no_tui, bool say, bool *use_view);

#endif
