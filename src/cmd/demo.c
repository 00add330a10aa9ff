/*
 * demo.c: "thorrent demo": a whole swarm on loopback, with no internet.
 *
 * It makes a temporary payload (several files, one empty, sizes that do
 * not line up with pieces), a torrent for it, starts DEMO_SEEDERS
 * thorrent seeders as child processes on free loopback ports, downloads
 * from all of them in this process, then stops the seeders by PID and
 * removes everything it made.  The processes and the temporary
 * directory are the harness's (harness.h): it knows that a seeder
 * listens, and on which port, and that its data are checked, from the
 * seeder's trace.  Every one of them keeps its resume record and lock in
 * a state directory of its own inside the temporary directory (seeders
 * of one folder would otherwise lock each other out), so nothing is
 * left in the user's home either.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/harness.h"
#include "core/escape.h"
#include "core/i18n.h"

#define DEMO_SEEDERS	3
#define DEMO_READY_MS	30000	/* seeders must have checked by then */
#define DEMO_PATH_MAX	(HARNESS_DIR_MAX + 64)	/* our names in the
						 * temporary directory */

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
#define DEMO_NFILES	(sizeof(demo_files) / sizeof(demo_files[0]))

struct demo {
	struct harness		 h;
	bool			 paced;		/* slow seeders, the view */
	char			 seeddir[HARNESS_DIR_MAX + 8];
	char			 torrent[HARNESS_DIR_MAX + 16];
	struct harness_child	*seeders[DEMO_SEEDERS];
	char			 peers[DEMO_SEEDERS][32];	/* --peer */
	int			 nseed;
};

/* -1 to go on, otherwise the exit status. */
static int
demo_args(int argc, char **argv)
{
	char safe[128];

	/* --help is a question, answered on stdout with status 0, as
	 * the other subcommands answer it; anything else is misuse. */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf(_("usage: thorrent demo\n"));
		return CMD_EXIT_OK;
	}
	if (argc <= 1)
		return -1;
	escape_str(argv[1], strnlen(argv[1], 64), safe, sizeof(safe));
	fprintf(stderr, _("thorrent: demo: takes no arguments, not '%s'\n"),
	    safe);
	fprintf(stderr, _("usage: thorrent demo\n"));
	return CMD_EXIT_USAGE;
}

/* The payload's files and the torrent; false after one line. */
static bool
demo_payload(struct demo *d)
{
	char path[DEMO_PATH_MAX];
	char *cargv[] = { "create", "-o", d->torrent, "--piece-size", "64K",
	    path, NULL };

	snprintf(d->seeddir, sizeof(d->seeddir), "%s/seed", d->h.dir);
	snprintf(d->torrent, sizeof(d->torrent), "%s/demo.torrent", d->h.dir);
	if (mkdir(d->seeddir, 0755) != 0) {
		fprintf(stderr, _("thorrent: demo: cannot create %s: %s\n"),
		    d->seeddir, strerror(errno));
		return false;
	}
	snprintf(path, sizeof(path), "%s/demo", d->seeddir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/demo/beta", d->seeddir);
	mkdir(path, 0755);
	printf(_("demo: making a %d-file payload in %s\n"), (int)DEMO_NFILES,
	    d->seeddir);
	for (size_t i = 0; i < DEMO_NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", d->seeddir,
		    demo_files[i].path);
		if (harness_write_payload(path, demo_files[i].size,
		    NULL) != 0) {
			fprintf(stderr, _("thorrent: demo: cannot write %s: "
			    "%s\n"), path, strerror(errno));
			return false;
		}
	}
	snprintf(path, sizeof(path), "%s/demo", d->seeddir);
	fflush(stdout);
	return cmd_create(6, cargv) == 0;
}

/* Seeder i, started; false after one line. */
static bool
demo_start_seeder(struct demo *d, int i)
{
	char log[DEMO_PATH_MAX], trace[DEMO_PATH_MAX], state[DEMO_PATH_MAX];
	char name[16];
	struct harness_argv a;
	struct harness_child *c;

	snprintf(name, sizeof(name), "seeder%d", i);
	snprintf(log, sizeof(log), "%s/%s.log", d->h.dir, name);
	snprintf(trace, sizeof(trace), "%s/%s.jsonl", d->h.dir, name);
	snprintf(state, sizeof(state), "%s/state%d", d->h.dir, i);
	errno = EADDRNOTAVAIL;
	if ((c = harness_add(&d->h, name, log, trace)) == NULL ||
	    harness_argv_thorrent(&a, d->seeddir, state, trace) != 0)
		goto fail;
	harness_argv_add(&a, "--max-up", d->paced ? demo_paced[i] :
	    demo_fast[i]);
	harness_argv_add(&a, d->torrent, NULL);
	if (harness_start(&d->h, c, NULL, &a) == 0) {
		d->seeders[d->nseed++] = c;
		return true;
	}
fail:
	fprintf(stderr, _("thorrent: demo: cannot start seeder %d: %s\n"),
	    i + 1, strerror(errno));
	return false;
}

/* Every seeder started, listening, and done checking its data, as
 * their traces say; false after one line. */
static bool
demo_seeders(struct demo *d)
{
	bool ok = true;

	for (int i = 0; i < DEMO_SEEDERS; i++)
		if (!demo_start_seeder(d, i))
			return false;
	for (int i = 0; ok && i < d->nseed; i++) {
		struct harness_child *c = d->seeders[i];

		ok = harness_wait(&d->h, c, &c->seen.listening, DEMO_READY_MS);
		if (!ok)
			break;
		snprintf(d->peers[i], sizeof(d->peers[i]), "127.0.0.1:%u",
		    (unsigned)c->seen.port);
		printf(_("demo: seeder %d listening on %s (pid %ld)\n"), i + 1,
		    d->peers[i], (long)c->pid);
	}
	for (int i = 0; ok && i < d->nseed; i++)
		ok = harness_wait(&d->h, d->seeders[i],
		    &d->seeders[i]->seen.checked, DEMO_READY_MS);
	if (ok)
		return true;
	if (harness_interrupted(&d->h))
		fprintf(stderr, "thorrent: demo: %s\n", _("interrupted"));
	else
		fprintf(stderr, "thorrent: %s\n",
		    _("demo: the seeders did not start in time"));
	return false;
}

/* The download, in this process, from the seeders. */
static int
demo_download(struct demo *d)
{
	char dldir[DEMO_PATH_MAX], dlstate[DEMO_PATH_MAX];
	char *dargv[14 + 2 * DEMO_SEEDERS];	/* argv ends in NULL */
	int k = 0;

	snprintf(dldir, sizeof(dldir), "%s/download", d->h.dir);
	snprintf(dlstate, sizeof(dlstate), "%s/state", d->h.dir);
	printf(_("demo: downloading into %s from %d seeders\n"), dldir,
	    d->nseed);
	fflush(stdout);
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
	dargv[k++] = d->paced ? "-1" : "0";
	for (int i = 0; i < d->nseed; i++) {
		dargv[k++] = "--peer";
		dargv[k++] = d->peers[i];
	}
	dargv[k++] = d->torrent;
	dargv[k] = NULL;
	/* The download has signals of its own (a key or ^C ends it). */
	harness_signals_off(&d->h);
	return cmd_run(k, dargv);
}

int
cmd_demo(int argc, char **argv)
{
	struct demo d;
	struct thr_error err;
	int rc;

	if ((rc = demo_args(argc, argv)) >= 0)
		return rc;
	memset(&d, 0, sizeof(d));
	/* The view or plain lines, decided as the download will decide it
	 * (an unknown terminal ends the demo before anything is made);
	 * the slow seeders are for watching the view. */
	if ((rc = cmd_view_choice(false, false, &d.paced)) != 0)
		return rc;
	memset(&err, 0, sizeof(err));
	if (harness_init(&d.h, "demo", DEMO_SEEDERS, &err) != 0) {
		fprintf(stderr, "thorrent: demo: %s\n", err.msg);
		return CMD_EXIT_ERROR;
	}
	rc = CMD_EXIT_ERROR;
	if (demo_payload(&d) && demo_seeders(&d))
		rc = demo_download(&d);
	/* The run's last line said what is complete and what was
	 * skipped; every piece that came was checked against its hash. */
	if (rc == CMD_EXIT_OK)
		printf(_("demo: every piece verified; cleaning up\n"));
	harness_release(&d.h);
	return rc;
}
