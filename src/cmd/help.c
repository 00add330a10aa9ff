/*
 * help.c: "thorrent --help" and "thorrent --version".
 *
 * The option list is grouped by what a user is trying to do; each group
 * is one translatable message so that a translator sees a whole table
 * and can keep its columns aligned.  When you add an option to run.c,
 * add its line to the group here and to man/thorrent.1.
 *
 * --version names the libraries as they report themselves at run time
 * (the shared library actually loaded, not the headers compiled
 * against), except where a library has no such call.
 */
#include "config.h"

#include <curl/curl.h>
#include <curses.h>
#include <miniupnpc/miniupnpc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cmd/help.h"
#include "core/i18n.h"

void
help_usage(FILE *fp)
{
	fputs(_("usage: thorrent [OPTIONS] FILE.torrent|MAGNET-LINK\n"
	    "       thorrent create [-o OUT] [-t URL]... [-w URL]... [--private]\n"
	    "                       [--piece-size N] [--comment TEXT] PATH\n"
	    "       thorrent info [--json] FILE.torrent\n"
	    "       thorrent demo\n"
	    "       thorrent swarm [OPTIONS]\n"
	    "Download a torrent or magnet link, then seed it.  Options may also\n"
	    "be set in $XDG_CONFIG_HOME/thorrent/config, one \"name = value\"\n"
	    "per line; the command line overrides them.\n"), fp);
	fputs(_("\nDownload:\n"
	    "  --file FILE         the torrent or magnet link to download (or\n"
	    "                      give it last)\n"
	    "  --path DIR          download directory (default .)\n"
	    "  --files LIST        download only these files, e.g. 1,3-5\n"
	    "                      (numbered as thorrent info lists them)\n"
	    "  --seed-ratio R      seed until uploaded/size reaches R (default 1.0;\n"
	    "                      0 exits when complete, negative seeds forever)\n"
	    "  --state-dir DIR     where resume records live (default\n"
	    "                      $XDG_STATE_HOME/thorrent)\n"), fp);
	fputs(_("\nNetwork:\n"
	    "  --port N            listening port (default 6881, next free if taken;\n"
	    "                      0: any free port)\n"
	    "  --bind-address IP   listen, dial and use UDP on this address only\n"
	    "  --transport MODE    both (default: uTP first, then TCP), utp or\n"
	    "                      tcp\n"
	    "  --encryption MODE   prefer (default: encrypted handshake, payload\n"
	    "                      as the peer likes, plaintext fallback), full\n"
	    "                      (RC4 payload whenever possible), require\n"
	    "                      (RC4 only) or off\n"
	    "  --no-dht            do not use the DHT (BEP 5)\n"
	    "  --dht-bootstrap HOST:PORT\n"
	    "                      join the DHT through this node (repeatable;\n"
	    "                      default: the public routers)\n"
	    "  --no-upnp           do not map the port with UPnP\n"
	    "  --no-natpmp         do not map the port with NAT-PMP\n"
	    "  --no-lsd            do not look for peers on the local network\n"
	    "                      (BEP 14 multicast)\n"), fp);
	fputs(_("\nPeers and strategy:\n"
	    "  --peer HOST:PORT    connect to this peer too (repeatable)\n"
	    "  --max-peers N       connections at most (default 80)\n"
	    "  --upload-slots N    peers unchoked by rate (default 4, plus one\n"
	    "                      optimistic)\n"
	    "  --strategy S        rarest (default), random or sequential\n"), fp);
	fputs(_("\nLimits:\n"
	    "  --max-up RATE       upload limit, e.g. 500K or 2M (bytes/s)\n"
	    "  --max-down RATE     download limit\n"), fp);
	fputs(_("\nExperiment and trace:\n"
	    "  --seed N            seed of every random choice, for replays\n"
	    "  --trace FILE        write every event to FILE as JSON Lines\n"), fp);
	fputs(_("\nOutput:\n"
	    "  --log LEVEL         error, warn, note, info or debug (default note:\n"
	    "                      what you changed and why seeding stopped)\n"
	    "  --no-tui            plain progress lines on stderr instead of the view\n"),
	    fp);
	fputs(_("\nConfiguration:\n"
	    "  --config FILE       read options from FILE instead of the default\n"
	    "                      $XDG_CONFIG_HOME/thorrent/config\n"
	    "  --no-config         read no configuration file\n"
	    "  -h, --help          this help\n"
	    "  --version           versions of thorrent and its libraries\n"
	    "\n"
	    "Subcommands take their own options; see thorrent(1).  Exit status:\n"
	    "0 complete, 1 error, 2 bad usage.\n"), fp);
}

void
help_version(FILE *fp)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	fprintf(fp, "thorrent %s\n", PACKAGE_VERSION);
	fprintf(fp, _("libraries:\n"));
	fprintf(fp, "  libcurl %s%s%s\n", cv->version,
	    cv->ssl_version != NULL ? " " : "",
	    cv->ssl_version != NULL ? cv->ssl_version : "");
	fprintf(fp, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
	fprintf(fp, "  %s\n", curses_version());
	/* Neither library reports its version at run time: these are the
	 * headers thorrent was built with. */
	fprintf(fp, "  miniupnpc %s (API %d)\n", MINIUPNPC_VERSION,
	    MINIUPNPC_API_VERSION);
	fprintf(fp, "  libnatpmp\n");
	fprintf(fp, _("features:"));
	fprintf(fp, " DHT PEX magnet MSE IPv6 uTP LSD web-seeds UPnP NAT-PMP");
#ifdef THR_SANITIZERS
	fprintf(fp, " ASan UBSan");
#endif
#if ENABLE_NLS
	fprintf(fp, " NLS");
#endif
	fprintf(fp, "\n");
#if ENABLE_NLS
	/* Where gettext looks: the installed catalogues, or the build
	 * tree's when this binary runs from there (main.c). */
	{
		const char *dir = bindtextdomain(PACKAGE, NULL);

		if (dir != NULL && strcmp(dir, LOCALEDIR) != 0)
			fprintf(fp, _("catalogues: %s (the build tree's)\n"),
			    dir);
		else if (dir != NULL)
			fprintf(fp, _("catalogues: %s\n"), dir);
	}
#endif
}
