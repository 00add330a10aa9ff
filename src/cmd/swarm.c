/*
 * swarm.c: "thorrent swarm" (placeholder until the experiment runner
 * lands).
 */
#include "config.h"

#include <stdio.h>

#include "cmd/cmd.h"

int
cmd_swarm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "thorrent: swarm is not available in this build\n");
	return CMD_EXIT_ERROR;
}
