/*
 * i18n.h: gettext wiring.  Strings shown to users are marked _() so that
 * po/ can translate them; N_() marks strings in static tables.
 */
#ifndef THR_I18N_H
#define THR_I18N_H

#include <libintl.h>
#include <locale.h>

#define _(s)	gettext(s)
#define N_(s)	(s)

#endif
