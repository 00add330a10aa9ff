/*
 * portmap_child.c: the UPnP helper process of the port mapper, and the
 * result lines it writes.  See portmap_child.h.
 *
 * No data of its own: the child holds miniupnpc's view of the gateway on
 * its stack and answers each command with one line (upnp_say), which the
 * parent reads with portmap_parse_line.  The writer and the reader of
 * that grammar sit in this one file so that they change together.  The
 * state machines are portmap.c's: it calls in here, and nothing here
 * calls back.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include "core/err.h"
#include "net/portmap.h"
#include "net/portmap_child.h"

/* UPnP error 725: the IGD only accepts leases of 0 (permanent). */
#define PORTMAP_UPNP_ONLY_PERMANENT	725
/* Closing inherited fds in the child: a cap when close_range fails. */
#define PORTMAP_CHILD_MAX_FD		4096

/*
 * Result lines: read in the parent.
 */

static int
portmap_parse_port(const char *s, size_t len, uint16_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return THR_EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return THR_EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return THR_EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* The next space-separated word of line[*pos..len); *pos moves past it
 * and one space. */
static size_t
portmap_word(const char *line, size_t len, size_t *pos, const char **w)
{
	size_t start = *pos, n;

	while (*pos < len && line[*pos] != ' ')
		(*pos)++;
	n = *pos - start;
	*w = line + start;
	if (*pos < len)
		(*pos)++;
	return n;
}

static bool
portmap_is(const char *w, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(w, lit, n) == 0;
}

int
portmap_parse_line(const char *line, size_t len, struct portmap_result *out,
    struct thr_error *err)
{
	const char *w;
	size_t pos = 0, n, i, j;
	char a[PORTMAP_ADDR_MAX];
	struct in_addr ia;

	memset(out, 0, sizeof(*out));
	if (len >= PORTMAP_LINE_MAX)
		return thr_error_set(err, THR_EINVAL, PORTMAP_LINE_MAX,
		    "result line longer than %d bytes", PORTMAP_LINE_MAX);
	n = portmap_word(line, len, &pos, &w);
	if (portmap_is(w, n, "gone")) {
		if (pos != len || (len > 0 && line[len - 1] == ' '))
			return thr_error_set(err, THR_EINVAL, n,
			    "junk after \"gone\"");
		out->kind = PORTMAP_R_GONE;
		return 0;
	}
	if (portmap_is(w, n, "none") || portmap_is(w, n, "fail")) {
		out->kind = w[0] == 'n' ? PORTMAP_R_NONE : PORTMAP_R_FAIL;
		for (i = pos, j = 0; i < len && j + 1 < sizeof(out->text);
		    i++, j++) {
			unsigned char c = (unsigned char)line[i];

			out->text[j] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		out->text[j] = '\0';
		return 0;
	}
	if (!portmap_is(w, n, "ok"))
		return thr_error_set(err, THR_EINVAL, 0,
		    "unknown result word");
	out->kind = PORTMAP_R_OK;

	n = portmap_word(line, len, &pos, &w);
	if (portmap_is(w, n, "-"))
		out->addr[0] = '\0';
	else {
		if (n == 0 || n >= INET_ADDRSTRLEN)
			return thr_error_set(err, THR_EINVAL,
			    (size_t)(w - line), "bad external address");
		memcpy(a, w, n);
		a[n] = '\0';
		if (inet_pton(AF_INET, a, &ia) != 1)
			return thr_error_set(err, THR_EINVAL,
			    (size_t)(w - line), "bad external address");
		memcpy(out->addr, a, n + 1);
	}
	n = portmap_word(line, len, &pos, &w);
	if (portmap_parse_port(w, n, &out->tcp) != 0)
		return thr_error_set(err, THR_EINVAL, (size_t)(w - line),
		    "bad TCP port");
	/* The last word must end the line: no trailing space or word. */
	if (pos == len && len > 0 && line[len - 1] == ' ')
		return thr_error_set(err, THR_EINVAL, len, "trailing space");
	n = portmap_word(line, len, &pos, &w);
	if (portmap_parse_port(w, n, &out->udp) != 0)
		return thr_error_set(err, THR_EINVAL, (size_t)(w - line),
		    "bad UDP port");
	if (pos != len || line[len - 1] == ' ')
		return thr_error_set(err, THR_EINVAL, pos, "junk after ports");
	return 0;
}

/*
 * The child.  It only uses its two pipe ends and never returns into the
 * parent's code.
 */

static void
upnp_say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
upnp_say(int fd, const char *fmt, ...)
{
	char buf[PORTMAP_LINE_MAX];
	va_list ap;
	int n;
	size_t off = 0;
	ssize_t w;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	while (off < (size_t)n) {
		w = write(fd, buf + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static int
upnp_add(struct UPNPUrls *u, struct IGDdatas *d, const char *lan,
    uint16_t port, const char *proto)
{
	char p[8], lease[16];
	int r;

	snprintf(p, sizeof(p), "%u", port);
	snprintf(lease, sizeof(lease), "%d", PORTMAP_LEASE_S);
	r = UPNP_AddPortMapping(u->controlURL, d->first.servicetype, p, p, lan,
	    "thorrent", proto, NULL, lease);
	if (r == PORTMAP_UPNP_ONLY_PERMANENT)
		r = UPNP_AddPortMapping(u->controlURL, d->first.servicetype, p,
		    p, lan, "thorrent", proto, NULL, "0");
	return r;
}

static void
upnp_map(int out, struct UPNPUrls *u, struct IGDdatas *d, const char *lan,
    uint16_t tcp, uint16_t udp)
{
	char ext[40];
	struct in_addr ia;
	int rt, ru = 0;

	if (UPNP_GetExternalIPAddress(u->controlURL, d->first.servicetype,
	    ext) != UPNPCOMMAND_SUCCESS || inet_pton(AF_INET, ext, &ia) != 1)
		snprintf(ext, sizeof(ext), "-");
	rt = upnp_add(u, d, lan, tcp, "TCP");
	if (udp != 0)
		ru = upnp_add(u, d, lan, udp, "UDP");
	if (rt != 0 && (udp == 0 || ru != 0)) {
		upnp_say(out, "fail %d %s", rt, strupnperror(rt));
		return;
	}
	upnp_say(out, "ok %s %u %u", ext, rt == 0 ? tcp : 0,
	    udp != 0 && ru == 0 ? udp : 0);
}

static void
upnp_unmap(struct UPNPUrls *u, struct IGDdatas *d, uint16_t tcp,
    uint16_t udp)
{
	char p[8];

	snprintf(p, sizeof(p), "%u", tcp);
	UPNP_DeletePortMapping(u->controlURL, d->first.servicetype, p, "TCP",
	    NULL);
	if (udp != 0) {
		snprintf(p, sizeof(p), "%u", udp);
		UPNP_DeletePortMapping(u->controlURL, d->first.servicetype, p,
		    "UDP", NULL);
	}
}

static void
upnp_child(int in, int out, uint16_t tcp, uint16_t udp)
{
	struct UPNPDev *devs;
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[64], c;
	int e = 0, r;
	ssize_t n;

	devs = upnpDiscover(PORTMAP_DISCOVER_MS, NULL, NULL,
	    UPNP_LOCAL_PORT_ANY, 0, 2, &e);
	if (devs == NULL) {
		upnp_say(out, "none no UPnP device answered");
		return;
	}
	memset(&urls, 0, sizeof(urls));
	memset(&data, 0, sizeof(data));
	lan[0] = '\0';
	r = UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof(lan));
	freeUPNPDevlist(devs);
	if (r != 1 && r != 2) {
		if (r != 0)
			FreeUPNPUrls(&urls);
		upnp_say(out, "none no Internet gateway among the UPnP "
		    "devices");
		return;
	}
	upnp_map(out, &urls, &data, lan, tcp, udp);
	for (;;) {
		n = read(in, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == 'd') {
			upnp_unmap(&urls, &data, tcp, udp);
			if (n == 1)
				upnp_say(out, "gone");
			break;
		}
		if (c == 'r')
			upnp_map(out, &urls, &data, lan, tcp, udp);
	}
	FreeUPNPUrls(&urls);
}

/* In the child: keep only the pipe ends (as 0 and 1) and a quiet
 * stderr, so that the listening socket and the peers' sockets are not
 * held open by it, and the parent's signal handlers (which write to
 * its self-pipe) are gone. */
static void
upnp_child_setup(int in, int out)
{
	int fd;

	signal(SIGINT, SIG_IGN);	/* ^C is for the parent, which
					 * then asks us to clean up */
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(1);
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0 && fd != 2) {
		dup2(fd, 2);
		close(fd);
	}
	if (close_range(3, ~0U, 0) != 0)
		for (fd = 3; fd < PORTMAP_CHILD_MAX_FD; fd++)
			close(fd);
}

int
portmap_child_spawn(uint16_t tcp_port, uint16_t udp_port, pid_t *pidp,
    int *cmd_fdp, int *res_fdp)
{
	int cmd[2], res[2];
	pid_t pid;

	/* Commands go over a socket pair so that send(MSG_NOSIGNAL) to a
	 * child that died raises no SIGPIPE in a caller that did not ignore
	 * it. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, cmd) != 0)
		return THR_EIO;
	if (pipe(res) != 0)
		goto close_cmd;
	pid = fork();
	if (pid < 0)
		goto close_res;
	if (pid == 0) {
		upnp_child_setup(cmd[0], res[1]);
		upnp_child(0, 1, tcp_port, udp_port);
		_exit(0);
	}
	close(cmd[0]);
	close(res[1]);
	fcntl(cmd[1], F_SETFD, FD_CLOEXEC);
	fcntl(res[0], F_SETFD, FD_CLOEXEC);
	fcntl(cmd[1], F_SETFL, O_NONBLOCK);
	fcntl(res[0], F_SETFL, O_NONBLOCK);
	*pidp = pid;
	*cmd_fdp = cmd[1];
	*res_fdp = res[0];
	return 0;

close_res:
	close(res[0]);
	close(res[1]);
close_cmd:
	close(cmd[0]);
	close(cmd[1]);
	return THR_EIO;
}
