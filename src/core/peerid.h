/*
 * peerid.h: a readable client name and version from a 20-byte peer id.
 *
 * Conventions decoded (BEP 20 and common practice):
 *  - Azureus style "-XXvvvv-": two letters name the client, four chars
 *    the version ("-TR3000-" Transmission 3.00, "-LT2080-"
 *    libtorrent-rasterbar 2.0.8, "-lt0D80-" rakshasa's libTorrent (under
 *    rTorrent) 0.13.8 with base-36 digits, "-qB4520-" qBittorrent 4.5.2,
 *    "-UT355W-" uTorrent, "-DE13F0-" Deluge, "-AZ5750-" Vuze, "-TH0100-"
 *    thorrent...);
 *  - aria2 "A2-1-36-0-": numbers separated by '-';
 *  - Shadow style "S58B-----": one letter, then version chars until '-';
 *  - Mainline style "M4-3-6--".
 * Unknown ids give "unknown".  The output is always printable ASCII.
 */
#ifndef THR_PEERID_H
#define THR_PEERID_H

#include <stddef.h>
#include <stdint.h>

#define PEERID_NAME_MAX	32

/* Write e.g. "Transmission 3.00" into out (NUL-terminated, truncated). */
void	peerid_client(const uint8_t id[20], char *out, size_t len);

#endif
