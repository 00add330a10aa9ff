/*
 * conn.h: non-blocking TCP sockets for peers: connect, listen, accept,
 * and moving bytes between a socket and a struct buf.  Every socket is
 * non-blocking and close-on-exec; none of these calls ever waits.
 */
#ifndef THR_CONN_H
#define THR_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/buf.h"

#define CONN_PORT_TRIES	20	/* ports tried after the wanted one */

/* Start connecting, from local's address when local is not NULL
 * (--bind-address; it must be of a's family, else THR_EINVAL); *fd is
 * set and the connect completes (or fails) when the fd turns writable.
 * 0 or THR_EIO. */
int	conn_connect(const struct thr_addr *a, const struct thr_addr *local,
	    int *fd);
/* Our end of a connecting or connected socket (the address and port the
 * kernel chose), into *a.  0 or THR_EIO. */
int	conn_local(int fd, struct thr_addr *a);
/* After writability: 0 if connected, THR_EIO with errno text otherwise. */
int	conn_connect_result(int fd, char *why, size_t whylen);
/* Listen on port or the next free one (up to CONN_PORT_TRIES more), on
 * local's address (its port is ignored), or on every IPv4 address when
 * local is NULL.  Port 0 picks any; sets fd and actual. */
int	conn_listen(const struct thr_addr *local, uint16_t port, int *fd,
	    uint16_t *actual);
/* Listen for IPv6 peers on port (the IPv4 listener's), IPV6_V6ONLY.
 * THR_EIO (errno set) when the host has no IPv6 or the port is taken. */
int	conn_listen6(uint16_t port, int *fd);
/* A TCP port on 127.0.0.1 that is free right now (for the demo and
 * swarm children), or -1.  Another process may take it before use. */
int	conn_free_port(void);
/* Accept one connection: 1 with fd and a set, 0 if none pending, THR_EIO. */
int	conn_accept(int lfd, int *fd, struct thr_addr *a);
/* Read up to max bytes into in.  Returns bytes read (> 0), 0 if it would
 * block, THR_EIO on error or EOF (why says which). */
ssize_t	conn_read(int fd, struct buf *in, size_t max, char *why,
	    size_t whylen);
/* Write from the front of out and consume what was sent.  Returns bytes
 * written (>= 0) or THR_EIO. */
ssize_t	conn_write(int fd, struct buf *out, char *why, size_t whylen);

#endif
