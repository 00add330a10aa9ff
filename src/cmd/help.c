/*
 * help.c: "thorrent --version".  (--help comes from the option table,
 * cmd/opts.c.)
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
