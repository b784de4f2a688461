/*
 * quote-server: a small Winsock TCP price service, the base program of the hotpe live-patching
 * demo (samples/README.md).
 *
 *   quote-server PORT        listen on 127.0.0.1:PORT (0: any free port); prints
 *                            "listening on N" on stdout once it accepts connections
 *
 * One thread per client. Line protocol (one reply line per request line, "\r\n" or "\n"):
 *   PRICE <item> <qty>   -> OK <cents>          (ERR ... for an unknown item or a bad quantity)
 *   STATS                -> OK requests=<priced requests> connections=<connections accepted>
 *   QUIT                 -> BYE, and the connection is closed
 *   SHUTDOWN             -> BYE, and the whole server stops
 * The server also stops when its standard input reaches end of file (or reads SHUTDOWN), so a
 * test can always stop it by closing a pipe.
 *
 * The bug the demo fixes live: compute_price multiplies quantity by unit price in `long`, which
 * is 32 bits on Windows (LLP64), before widening to the 64-bit result. Big orders wrap:
 * "PRICE widget 20000000" (20,000,000 x 250 cents = 5,000,000,000) answers a price that is
 * negative or far too small instead of 4750000000 (5% off for 100 or more). Small orders are
 * right.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hotpe/patchable.h>

struct order {
    char item[32];
    long qty;        /* LONG: 32 bits on Windows */
    long unit_cents; /* from the price table */
};

struct price_entry {
    const char *item;
    long unit_cents;
};

static const struct price_entry g_prices[] = {
    { "widget", 250 },  { "gadget", 1999 }, { "gizmo", 5 },
    { "sprocket", 75 }, { "flange", 1234 },
};

/* Requests priced by compute_price (a patch reaches it with HOTPE_BASE_DATA(long, g_requests)). */
long g_requests;
/* Connections accepted since start. */
long g_connections;

static volatile LONG g_stop;
static CRITICAL_SECTION g_log_lock;

/* One line on stderr. Not exported: a patch calls it through HOTPE_BASE_FUNC (COFF symbol). */
__attribute__((noinline)) int log_line(const char *msg)
{
    EnterCriticalSection(&g_log_lock);
    int n = fprintf(stderr, "quote-server: %s\n", msg);
    fflush(stderr);
    LeaveCriticalSection(&g_log_lock);
    return n;
}

static void logf_(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_line(buf);
}

/* 5% off from 100 pieces, rounded to the nearest cent. */
HOTPE_PATCHABLE long long apply_discount(long long cents, long qty)
{
    if (qty >= 100)
        return (cents * 95 + 50) / 100;
    return cents;
}

/* The price of an order in cents. BUG: qty * unit_cents is computed in 32-bit `long` and
 * wraps for big orders before it is widened. */
HOTPE_PATCHABLE long long compute_price(const struct order *o)
{
    InterlockedIncrement(&g_requests);
    long subtotal = o->qty * o->unit_cents;
    return apply_discount(subtotal, o->qty);
}

static const struct price_entry *find_item(const char *item)
{
    for (size_t i = 0; i < sizeof g_prices / sizeof g_prices[0]; i++)
        if (strcmp(g_prices[i].item, item) == 0)
            return &g_prices[i];
    return NULL;
}

static int send_all(SOCKET s, const char *buf, int len)
{
    while (len > 0) {
        int n = send(s, buf, len, 0);
        if (n <= 0)
            return -1;
        buf += n;
        len -= n;
    }
    return 0;
}

static void request_stop(const char *why)
{
    if (InterlockedExchange(&g_stop, 1) == 0)
        logf_("stopping: %s", why);
}

/* Handles one request line; writes the reply (with "\r\n") into out. Returns 0 to keep the
 * connection, 1 to close it. */
static int handle_line(char *line, char *out, size_t outsz)
{
    char cmd[16], item[64], extra[2];
    long long qty;
    int n = sscanf(line, "%15s %63s %lld %1s", cmd, item, &qty, extra);
    if (n <= 0) {
        snprintf(out, outsz, "ERR empty request\r\n");
        return 0;
    }
    if (strcmp(cmd, "PRICE") == 0) {
        if (n != 3) {
            snprintf(out, outsz, "ERR usage: PRICE <item> <qty>\r\n");
            return 0;
        }
        const struct price_entry *p = find_item(item);
        if (!p) {
            snprintf(out, outsz, "ERR unknown item %s\r\n", item);
            return 0;
        }
        if (qty < 1 || qty > 0x7fffffffLL) {
            snprintf(out, outsz, "ERR bad quantity\r\n");
            return 0;
        }
        struct order o;
        memset(&o, 0, sizeof o);
        snprintf(o.item, sizeof o.item, "%s", p->item);
        o.qty = (long)qty;
        o.unit_cents = p->unit_cents;
        snprintf(out, outsz, "OK %lld\r\n", compute_price(&o));
        return 0;
    }
    if (n == 1 && strcmp(cmd, "STATS") == 0) {
        snprintf(out, outsz, "OK requests=%ld connections=%ld\r\n",
                 InterlockedCompareExchange(&g_requests, 0, 0),
                 InterlockedCompareExchange(&g_connections, 0, 0));
        return 0;
    }
    if (n == 1 && strcmp(cmd, "QUIT") == 0) {
        snprintf(out, outsz, "BYE\r\n");
        return 1;
    }
    if (n == 1 && strcmp(cmd, "SHUTDOWN") == 0) {
        snprintf(out, outsz, "BYE\r\n");
        request_stop("SHUTDOWN command");
        return 1;
    }
    snprintf(out, outsz, "ERR unknown command\r\n");
    return 0;
}

/* Waits up to ms for s to be readable: 1 readable, 0 timeout, -1 error. */
static int wait_readable(SOCKET s, int ms)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(s, &rd);
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    int r = select(0, &rd, NULL, NULL, &tv);
    return r == SOCKET_ERROR ? -1 : r > 0;
}

static volatile LONG g_active;

static DWORD WINAPI client_thread(LPVOID arg)
{
    SOCKET s = (SOCKET)(ULONG_PTR)arg;
    char buf[1024], reply[160];
    size_t used = 0;
    int done = 0;
    while (!done && !g_stop) {
        int r = wait_readable(s, 100);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        int n = recv(s, buf + used, (int)(sizeof buf - 1 - used), 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = 0;
        char *start = buf, *nl;
        while (!done && (nl = strchr(start, '\n')) != NULL) {
            *nl = 0;
            if (nl > start && nl[-1] == '\r')
                nl[-1] = 0;
            done = handle_line(start, reply, sizeof reply);
            if (send_all(s, reply, (int)strlen(reply)) < 0)
                done = 1;
            start = nl + 1;
        }
        used -= (size_t)(start - buf);
        memmove(buf, start, used);
        if (used == sizeof buf - 1) {
            static const char too_long[] = "ERR line too long\r\n";
            send_all(s, too_long, (int)sizeof too_long - 1);
            break;
        }
    }
    shutdown(s, SD_SEND);
    closesocket(s);
    InterlockedDecrement(&g_active);
    return 0;
}

/* Stops the server at end of file on stdin, or on a SHUTDOWN line. */
static DWORD WINAPI stdin_thread(LPVOID arg)
{
    (void)arg;
    char line[128];
    while (fgets(line, sizeof line, stdin))
        if (strncmp(line, "SHUTDOWN", 8) == 0) {
            request_stop("SHUTDOWN on stdin");
            return 0;
        }
    request_stop("end of stdin");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: quote-server PORT   (0: pick a free port)\n");
        return 2;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "quote-server: bad port '%s'\n", argv[1]);
        return 2;
    }
    InitializeCriticalSection(&g_log_lock);
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fprintf(stderr, "quote-server: WSAStartup failed\n");
        return 1;
    }
    SOCKET ls = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((u_short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int salen = sizeof sa;
    if (ls == INVALID_SOCKET || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(ls, SOMAXCONN) != 0 || getsockname(ls, (struct sockaddr *)&sa, &salen) != 0) {
        fprintf(stderr, "quote-server: cannot listen on 127.0.0.1:%ld (error %d)\n", port,
                WSAGetLastError());
        WSACleanup();
        return 1;
    }
    HANDLE in = CreateThread(NULL, 0, stdin_thread, NULL, 0, NULL);
    if (in)
        CloseHandle(in);
    printf("listening on %u\n", ntohs(sa.sin_port));
    fflush(stdout);
    logf_("listening on 127.0.0.1:%u", ntohs(sa.sin_port));

    while (!g_stop) {
        int r = wait_readable(ls, 100);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        SOCKET c = accept(ls, NULL, NULL);
        if (c == INVALID_SOCKET)
            continue;
        InterlockedIncrement(&g_connections);
        InterlockedIncrement(&g_active);
        HANDLE t = CreateThread(NULL, 0, client_thread, (LPVOID)(ULONG_PTR)c, 0, NULL);
        if (!t) {
            InterlockedDecrement(&g_active);
            closesocket(c);
            continue;
        }
        CloseHandle(t);
    }
    closesocket(ls);
    /* client threads see g_stop within 100 ms; give them up to 5 s */
    for (int i = 0; i < 500 && InterlockedCompareExchange(&g_active, 0, 0) > 0; i++)
        Sleep(10);
    logf_("stopped: %ld requests priced, %ld connections", g_requests, g_connections);
    WSACleanup();
    fflush(stdout);
    /* the stdin thread may still block in fgets: ExitProcess ends it */
    ExitProcess(0);
}
