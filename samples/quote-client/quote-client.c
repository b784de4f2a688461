/*
 * quote-client: talks to quote-server over ONE TCP connection that stays open.
 *
 *   quote-client PORT [REQUEST...]
 *
 * Sends each REQUEST argument as a line, or, without any, each line read from standard input
 * (so a demo can keep the connection open, patch the server, and ask again), and prints every
 * reply line on stdout, flushed. Stops after a BYE reply, at end of input, or when the server
 * closes the connection. Exit 0 when every request got a reply, 1 otherwise.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_buf[1024];
static size_t g_used;

/* Reads one reply line (without the line end) into out; 0 ok, -1 connection closed or error
 * or no reply within 30 s. */
static int read_reply(SOCKET s, char *out, size_t outsz)
{
    for (;;) {
        char *nl = memchr(g_buf, '\n', g_used);
        if (nl) {
            size_t len = (size_t)(nl - g_buf);
            size_t keep = len;
            if (keep > 0 && g_buf[keep - 1] == '\r')
                keep--;
            if (keep >= outsz)
                keep = outsz - 1;
            memcpy(out, g_buf, keep);
            out[keep] = 0;
            g_used -= len + 1;
            memmove(g_buf, nl + 1, g_used);
            return 0;
        }
        if (g_used == sizeof g_buf)
            return -1;
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(s, &rd);
        struct timeval tv = { 30, 0 };
        if (select(0, &rd, NULL, NULL, &tv) <= 0)
            return -1;
        int n = recv(s, g_buf + g_used, (int)(sizeof g_buf - g_used), 0);
        if (n <= 0)
            return -1;
        g_used += (size_t)n;
    }
}

/* Sends one request and prints its reply. 0: go on, 1: BYE (stop), -1: failed. */
static int ask(SOCKET s, const char *request)
{
    char line[512], reply[512];
    size_t len = strcspn(request, "\r\n");
    if (len > sizeof line - 3)
        len = sizeof line - 3;
    memcpy(line, request, len);
    memcpy(line + len, "\r\n", 3);
    const char *p = line;
    int left = (int)(len + 2);
    while (left > 0) {
        int n = send(s, p, left, 0);
        if (n <= 0) {
            fprintf(stderr, "quote-client: send failed (error %d)\n", WSAGetLastError());
            return -1;
        }
        p += n;
        left -= n;
    }
    if (read_reply(s, reply, sizeof reply) != 0) {
        fprintf(stderr, "quote-client: no reply to '%.*s'\n", (int)len, request);
        return -1;
    }
    printf("%s\n", reply);
    fflush(stdout);
    return strcmp(reply, "BYE") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: quote-client PORT [REQUEST...]   (requests from stdin without any)\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "quote-client: bad port '%s'\n", argv[1]);
        return 2;
    }
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fprintf(stderr, "quote-client: WSAStartup failed\n");
        return 1;
    }
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((u_short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "quote-client: cannot connect to 127.0.0.1:%ld (error %d)\n", port,
                WSAGetLastError());
        WSACleanup();
        return 1;
    }
    int rc = 0, r = 0;
    if (argc > 2) {
        for (int i = 2; i < argc && r == 0; i++)
            r = ask(s, argv[i]);
    } else {
        char line[512];
        while (r == 0 && fgets(line, sizeof line, stdin))
            if (line[strspn(line, " \t\r\n")] != 0)
                r = ask(s, line);
    }
    if (r < 0)
        rc = 1;
    shutdown(s, SD_SEND);
    closesocket(s);
    WSACleanup();
    return rc;
}
