/*
 * portmap_child.h: the UPnP helper process of the port mapper
 * (portmap.h).
 *
 * miniupnpc only has blocking calls that take seconds (SSDP discovery,
 * SOAP over HTTP), so they run in a child process that the select() loop
 * drives over two descriptors.  Once started, the child looks for a
 * gateway, maps the ports and writes its first result line unasked; it
 * then reads one-byte commands: 'r' maps again and answers with a
 * result line, 'd' removes the mappings, answers "gone" and exits, and
 * EOF removes them and exits without a word.  Other bytes are ignored.
 * After "none" (no gateway) it has exited.  The result lines follow the
 * grammar of portmap_parse_line (portmap.h), which portmap_child.c
 * defines beside the code that writes them.
 *
 * The child keeps only its two descriptors (no listening socket, no
 * peers, default signal handlers, ^C ignored: the parent asks it to
 * clean up) and never returns into the parent's code.
 */
#ifndef THR_PORTMAP_CHILD_H
#define THR_PORTMAP_CHILD_H

#include <sys/types.h>

#include <stdint.h>

/*
 * Fork the helper to map tcp_port (TCP) and udp_port (UDP, 0 = none).
 * On success *pidp is the child, *cmd_fdp the socket to send commands
 * to (with MSG_NOSIGNAL, so that a dead child raises no SIGPIPE) and
 * *res_fdp the pipe to read result lines from; both descriptors are
 * non-blocking and close-on-exec, and they and the reaping of the child
 * are the caller's.  Returns 0, or THR_EIO with errno saying why; then
 * nothing is left open and the out parameters are untouched.
 */
int	portmap_child_spawn(uint16_t tcp_port, uint16_t udp_port,
	    pid_t *pidp, int *cmd_fdp, int *res_fdp);

#endif
