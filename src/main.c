/*
 * main.c: locale, libcurl's global init, the descriptor limit, and
 * subcommand dispatch.
 */
#include "config.h"

#include <sys/resource.h>

#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/i18n.h"

/*
 * Raise the soft descriptor limit to the hard one (at most MAIN_MAX_FDS):
 * the files of a torrent stay open above the numbers select() watches
 * (core/storage.h), so a torrent of ten thousand files needs ten
 * thousand more descriptors than Debian's default soft limit of 1024.
 */
#define MAIN_MAX_FDS	(1u << 17)

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > MAIN_MAX_FDS)
		rl.rlim_max = MAIN_MAX_FDS;
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);	/* best effort */
}

/*
 * Where the message catalogues are.  An installed binary uses LOCALEDIR.
 * The binary in the build tree, which a developer or a newcomer runs
 * before (or without) make install, uses the catalogues that make
 * builds beside it in locale/: it is that binary when /proc/self/exe
 * (a resolved path) lies in the configured build directory, so a copy
 * installed anywhere else never looks there.  thorrent --version says
 * which one is in use (bindtextdomain with NULL reads it back).
 */
static const char *
main_localedir(char *buf, size_t len)
{
#ifdef THR_BUILDDIR
	char exe[PATH_MAX], top[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return LOCALEDIR;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return LOCALEDIR;
	*slash = '\0';
	if (realpath(THR_BUILDDIR, top) == NULL || strcmp(exe, top) != 0 ||
	    (size_t)snprintf(buf, len, "%s/locale", top) >= len ||
	    access(buf, R_OK | X_OK) != 0)
		return LOCALEDIR;
	return buf;
#else
	(void)buf;
	(void)len;
	return LOCALEDIR;
#endif
}

int
main(int argc, char **argv)
{
	char localedir[PATH_MAX + 16];
	int rc;

	setlocale(LC_ALL, "");
	bindtextdomain(PACKAGE, main_localedir(localedir, sizeof(localedir)));
	textdomain(PACKAGE);
	raise_fd_limit();
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
