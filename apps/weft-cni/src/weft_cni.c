/*
 * weft-cni: the CNI binary the container runtime executes for every pod operation.
 *
 * No logic: it forwards the CNI_* environment and stdin to the Weft CNI server (weftd) over a
 * unix socket and relays stdout, stderr and the exit code (Node per pod would cost 20+ ms).
 * Socket: $WEFT_CNI_SOCKET, else the config's "weftSocketPath", else /run/weft/cni.sock. An
 * unreachable server gives CNI error 11 ("try again later") naming the socket.
 * Wire format (packages/cni/frame.ts):
 *   request  = u32be N, N bytes: "KEY=VALUE\0"... "\0" stdin-bytes
 *   response = u32be N, N bytes: u32be exit code, u32be S, S bytes stdout, stderr-bytes
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/weft/cni.sock"
#define MAX_FRAME (16u * 1024u * 1024u)

extern char **environ;

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			fputs("weft-cni: out of memory\n", stderr);
			exit(1);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Copies the string value of the first "key": "value" in json (no escapes allowed). */
static int json_field(const char *json, const char *key, char *out, size_t outsz)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *s = json ? strstr(json, pat) : NULL;
	if (!s)
		return -1;
	s += strlen(pat);
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s++ != ':')
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s++ != '"')
		return -1;
	size_t i = 0;
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' || i + 1 >= outsz)
			return -1;
		out[i++] = *s;
	}
	out[i] = '\0';
	return *s == '"' ? 0 : -1;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* CNI error 11: the runtime retries later. */
static int unreachable(const char *version, const char *path, const char *what)
{
	char msg[512], details[512];
	snprintf(msg, sizeof msg, "weft CNI server is not reachable at %s", path);
	snprintf(details, sizeof details, "%s: %s; is weftd running on this node?", what, strerror(errno));
	printf("{\"cniVersion\":");
	json_string(stdout, version);
	printf(",\"code\":11,\"msg\":");
	json_string(stdout, msg);
	printf(",\"details\":");
	json_string(stdout, details);
	printf("}\n");
	fprintf(stderr, "weft-cni: %s (%s)\n", msg, details);
	return 1;
}

int main(void)
{
	struct buf in = {0}, req = {0};
	char chunk[65536], version[32] = "1.1.0", path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ssize_t r;

	signal(SIGPIPE, SIG_IGN);
	while ((r = read(0, chunk, sizeof chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break; /* no usable stdin (e.g. closed): send what we have */
		put(&in, chunk, (size_t)r);
	}
	if (json_field(in.p, "cniVersion", version, sizeof version) != 0)
		strcpy(version, "1.1.0");

	const char *env_path = getenv("WEFT_CNI_SOCKET");
	if (env_path && *env_path) {
		if (strlen(env_path) >= sizeof path) {
			errno = ENAMETOOLONG;
			return unreachable(version, env_path, "socket path");
		}
		strcpy(path, env_path);
	} else if (json_field(in.p, "weftSocketPath", path, sizeof path) != 0 || !*path) {
		strcpy(path, DEFAULT_SOCKET);
	}

	put(&req, "\0\0\0\0", 4);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CNI_", 4) == 0)
			put(&req, *e, strlen(*e) + 1);
	put(&req, "", 1);
	if (in.len)
		put(&req, in.p, in.len);
	uint32_t n = htonl((uint32_t)(req.len - 4));
	memcpy(req.p, &n, 4);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
		return unreachable(version, path, "connect");
	struct timeval tv = {.tv_sec = 600}; /* the runtime has its own, shorter timeouts */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (write_all(fd, req.p, req.len) != 0)
		return unreachable(version, path, "send");
	shutdown(fd, SHUT_WR);

	uint32_t head[3];
	if (read_all(fd, (char *)head, 4) != 0) {
		if (errno == 0)
			errno = ECONNRESET;
		return unreachable(version, path, "receive");
	}
	uint32_t len = ntohl(head[0]);
	if (len < 8 || len > MAX_FRAME) {
		errno = EPROTO;
		return unreachable(version, path, "receive");
	}
	char *body = malloc(len);
	if (!body || read_all(fd, body, len) != 0) {
		if (errno == 0)
			errno = ECONNRESET;
		return unreachable(version, path, "receive");
	}
	close(fd);
	memcpy(&head[1], body, 8);
	uint32_t code = ntohl(head[1]), out_len = ntohl(head[2]);
	if (out_len > len - 8) {
		errno = EPROTO;
		return unreachable(version, path, "receive");
	}
	if (write_all(1, body + 8, out_len) != 0 || write_all(2, body + 8 + out_len, len - 8 - out_len) != 0)
		return 1;
	return code > 255 ? 1 : (int)code;
}
