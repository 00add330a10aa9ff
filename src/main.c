/*
 * main.c: locale, libcurl's global init, and subcommand dispatch.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/i18n.h"

int
main(int argc, char **argv)
{
	int rc;

	setlocale(LC_ALL, "");
	bindtextdomain(PACKAGE, LOCALEDIR);
	textdomain(PACKAGE);
	/* libcurl's global state must be set up once, before any thread
	 * or handle exists; this is the place. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "thorrent: %s\n", _("cannot initialise libcurl"));
		return CMD_EXIT_ERROR;
	}
	if (argc > 1 && strcmp(argv[1], "create") == 0)
		rc = cmd_create(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "info") == 0)
		rc = cmd_info(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "demo") == 0)
		rc = cmd_demo(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "swarm") == 0)
		rc = cmd_swarm(argc - 1, argv + 1);
	else
		rc = cmd_run(argc, argv);
	curl_global_cleanup();
	return rc;
}
