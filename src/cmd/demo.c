/*
 * demo.c: "thorrent demo": a whole swarm on loopback, with no internet.
 *
 * It makes a temporary payload (several files, one empty, sizes that do
 * not line up with pieces), a torrent for it, starts DEMO_SEEDERS
 * thorrent seeders as child processes on free loopback ports, downloads
 * from all of them in this process, then stops the seeders by PID and
 * removes everything it made.  Every one of them keeps its resume
 * record and lock in a state directory of its own inside the temporary
 * directory (seeders of one folder would otherwise lock each other
 * out), so nothing is left in the user's home either.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "net/conn.h"

#define DEMO_SEEDERS	3
#define DEMO_READY_MS	30000	/* seeders must have checked by then */

/*
 * Upload limits of the seeders.  On a terminal they are slow and unequal
 * so that a newcomer can watch pieces fill in for about a minute and see
 * peers of different speed; without one, the demo just runs fast.
 */
static const char *const demo_paced[DEMO_SEEDERS] = { "200K", "100K", "50K" };
static const char *const demo_fast[DEMO_SEEDERS] = { "0", "0", "0" };

struct demo_file {
	const char	*path;
	size_t		 size;
};

/* Sizes chosen so that file edges fall inside pieces. */
static const struct demo_file demo_files[] = {
	{ "demo/alpha.bin", 9 * 1024 * 1024 + 12345 },
	{ "demo/empty.txt", 0 },
	{ "demo/beta/gamma.bin", 6 * 1024 * 1024 + 777 },
	{ "demo/readme.txt", 3001 },
};

static int
write_random(const char *path, size_t size)
{
	uint8_t chunk[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (size > 0) {
		size_t n = size < sizeof(chunk) ? size : sizeof(chunk);
		if (getrandom(chunk, n, 0) != (ssize_t)n ||
		    write(fd, chunk, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		size -= n;
	}
	return close(fd);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool
log_has(const char *path, const char *needle)
{
	char line[512];
	bool found = false;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static pid_t
start_seeder(const char *self, const char *dir, const char *state,
    const char *torrent, int port, const char *maxup, const char *logpath)
{
	char portstr[16];
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	/* The demo reads the seeders' log lines, which must stay in
	 * English: under the C locale gettext translates nothing. */
	setenv("LC_ALL", "C", 1);
	/* The demo swarm is local: no DHT, which would reach the public
	 * routers, no port mapping on the gateway and no LSD multicast,
	 * which would reach the LAN; and the user's configuration file
	 * does not apply to it. */
	execl(self, "thorrent", "--no-tui", "--no-dht", "--no-upnp",
	    "--no-natpmp", "--no-lsd", "--no-config", "--log", "info",
	    "--path", dir, "--state-dir", state,
	    "--port", portstr, "--seed-ratio", "-1", "--max-up", maxup,
	    torrent, (char *)NULL);
	_exit(127);
}

static void
stop_child(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

int
cmd_demo(int argc, char **argv)
{
	char tmp[] = "/tmp/thorrent-demo.XXXXXX";
	char path[256], torrent[64], seeddir[64], dldir[64], self[512];
	char logs[DEMO_SEEDERS][64], peers[DEMO_SEEDERS][32];
	char states[DEMO_SEEDERS][64], dlstate[64];
	pid_t pids[DEMO_SEEDERS];
	int nseed = 0, rc = CMD_EXIT_ERROR;
	bool paced;
	ssize_t n;

	/* --help is a question, answered on stdout with status 0, as
	 * the other subcommands answer it; anything else is misuse. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf(_("usage: thorrent demo\n"));
		return CMD_EXIT_OK;
	}
	if (argc > 1) {
		char safe[128];

		escape_str(argv[1], strnlen(argv[1], 64), safe, sizeof(safe));
		fprintf(stderr, _("thorrent: demo: takes no arguments, not "
		    "'%s'\n"), safe);
		fprintf(stderr, _("usage: thorrent demo\n"));
		return CMD_EXIT_USAGE;
	}
	/* The view or plain lines, decided as the download will decide it
	 * (an unknown terminal ends the demo before anything is made);
	 * the slow seeders are for watching the view. */
	if ((rc = cmd_view_choice(false, false, &paced)) != 0)
		return rc;
	rc = CMD_EXIT_ERROR;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "thorrent: %s\n",
		    _("demo: cannot find the thorrent binary"));
		return CMD_EXIT_ERROR;
	}
	self[n] = '\0';
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, _("thorrent: demo: cannot make a temporary "
		    "directory: %s\n"), strerror(errno));
		return CMD_EXIT_ERROR;
	}
	snprintf(seeddir, sizeof(seeddir), "%s/seed", tmp);
	snprintf(dldir, sizeof(dldir), "%s/download", tmp);
	snprintf(torrent, sizeof(torrent), "%s/demo.torrent", tmp);
	if (mkdir(seeddir, 0755) != 0) {
		fprintf(stderr, _("thorrent: demo: cannot create %s: %s\n"),
		    seeddir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/demo", seeddir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/demo/beta", seeddir);
	mkdir(path, 0755);
	printf(_("demo: making a %d-file payload in %s\n"),
	    (int)(sizeof(demo_files) / sizeof(demo_files[0])), seeddir);
	for (size_t i = 0; i < sizeof(demo_files) / sizeof(demo_files[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", seeddir,
		    demo_files[i].path);
		if (write_random(path, demo_files[i].size) != 0) {
			fprintf(stderr, _("thorrent: demo: cannot write %s: "
			    "%s\n"), path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/demo", seeddir);
	{
		char *cargv[] = { "create", "-o", torrent, "--piece-size",
		    "64K", path, NULL };
		fflush(stdout);
		if (cmd_create(6, cargv) != 0)
			goto out;
	}
	for (int i = 0; i < DEMO_SEEDERS; i++) {
		int port = conn_free_port();

		if (port < 0)
			goto out;
		snprintf(logs[i], sizeof(logs[i]), "%s/seeder%d.log", tmp, i);
		snprintf(states[i], sizeof(states[i]), "%s/state%d", tmp, i);
		snprintf(peers[i], sizeof(peers[i]), "127.0.0.1:%d", port);
		fflush(stdout);
		pids[nseed] = start_seeder(self, seeddir, states[i], torrent,
		    port, paced ? demo_paced[i] : demo_fast[i], logs[i]);
		if (pids[nseed] < 0)
			goto out;
		nseed++;
		printf(_("demo: seeder %d listening on %s (pid %ld)\n"), i + 1,
		    peers[i], (long)pids[i]);
	}
	for (int waited = 0, ready = 0; ready < nseed;
	    waited += 100) {
		ready = 0;
		for (int i = 0; i < nseed; i++)
			ready += log_has(logs[i], "listening on") &&
			    log_has(logs[i], "resume:");
		if (waited > DEMO_READY_MS) {
			fprintf(stderr, "thorrent: %s\n",
			    _("demo: the seeders did not start in time"));
			goto out;
		}
		sleep_ms(100);
	}
	printf(_("demo: downloading into %s from %d seeders\n"), dldir, nseed);
	fflush(stdout);
	{
		char *dargv[14 + 2 * DEMO_SEEDERS];	/* argv ends in NULL */
		int k = 0;

		snprintf(dlstate, sizeof(dlstate), "%s/state", tmp);
		dargv[k++] = "thorrent";
		dargv[k++] = "--no-config";
		dargv[k++] = "--no-dht";
		dargv[k++] = "--no-upnp";
		dargv[k++] = "--no-natpmp";
		dargv[k++] = "--no-lsd";
		dargv[k++] = "--path";
		dargv[k++] = dldir;
		dargv[k++] = "--state-dir";
		dargv[k++] = dlstate;
		/* On a terminal, stay in the view until the user quits. */
		dargv[k++] = "--seed-ratio";
		dargv[k++] = paced ? "-1" : "0";
		for (int i = 0; i < nseed; i++) {
			dargv[k++] = "--peer";
			dargv[k++] = peers[i];
		}
		dargv[k++] = torrent;
		dargv[k] = NULL;
		rc = cmd_run(k, dargv);
	}
	/* The run's last line said what is complete and what was
	 * skipped; every piece that came was checked against its hash. */
	if (rc == CMD_EXIT_OK)
		printf(_("demo: every piece verified; cleaning up\n"));
out:
	for (int i = 0; i < nseed; i++)
		stop_child(pids[i]);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
