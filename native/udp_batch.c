// Batched UDP for Glidepath (Linux): one SO_REUSEPORT socket per worker, read with recvmmsg and
// written with sendmmsg, handing JavaScript a batch of datagrams per call in buffers allocated once.
//
// A socket's buffers are shared with JavaScript (src/server/udp-native.ts):
//   in      batch x slot octets, the datagrams read;    inLen[i]: length, -1 when truncated
//   peer    batch x 20 octets: family (4 or 6), 0, port (2, network order), address (16)
//   out     batch x outSlot octets, the answers;          outLen[i]: length, 0 for no answer
// When the socket is readable, up to `batch` datagrams are read, onBatch(n) is called once, and the
// answers it left in `out` are sent with one sendmmsg to the address each query came from; then the
// event loop has its turn (ROUNDS).
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#define PEER_SIZE 20
/** Batches read per readable event before yielding to the event loop (TCP, timers, the feed, any
 *  other socket). One, of the `batch` (32) datagrams udp-native.ts asks for: the share of a turn
 *  libuv takes for a node:dgram socket (it reads at most 32). The poll is level-triggered, so what
 *  is left queued is read on the next turn. Eight batches of 64 (512 answers a turn) overflowed a
 *  node:dgram reader in the same process, which takes 32 a turn: the fuzz suite's client lost
 *  ~69,000 answers at its own socket (the server's dropped none), and answered 16k against 85k. */
#define ROUNDS 1

typedef struct {
  int fd;
  int family;
  int batch, slot, out_slot;
  uv_poll_t poll;
  int polling;
  napi_env env;
  napi_ref on_batch;
  napi_ref buffers[5];
  napi_async_context async;
  uint8_t *in, *peer, *out;
  int32_t *in_len, *out_len;
  struct mmsghdr *rmsgs, *smsgs;
  struct iovec *riov, *siov;
  struct sockaddr_storage *addrs;
  double received, sent, send_errors;
} udp_t;

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call " failed"); return NULL; } } while (0)

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_value code, text, err;
  napi_create_string_utf8(env, errno == EADDRINUSE ? "EADDRINUSE" : errno == EACCES ? "EACCES" : errno == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ENATIVE", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_set_named_property(env, err, "code", code);
  napi_throw(env, err);
  return NULL;
}

static void encode_peer(udp_t *u, int i) {
  uint8_t *p = u->peer + i * PEER_SIZE;
  struct sockaddr_storage *a = &u->addrs[i];
  memset(p, 0, PEER_SIZE);
  if (a->ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)a;
    p[0] = 4;
    memcpy(p + 2, &s->sin_port, 2);
    memcpy(p + 4, &s->sin_addr, 4);
  } else if (a->ss_family == AF_INET6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;
    p[0] = 6;
    memcpy(p + 2, &s->sin6_port, 2);
    memcpy(p + 4, &s->sin6_addr, 16);
  }
}

static int receive(udp_t *u) {
  for (int i = 0; i < u->batch; i++) {
    u->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    u->rmsgs[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do n = recvmmsg(u->fd, u->rmsgs, u->batch, MSG_DONTWAIT, NULL); while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  for (int i = 0; i < n; i++) {
    u->in_len[i] = (u->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)u->rmsgs[i].msg_len;
    u->out_len[i] = 0;
    encode_peer(u, i);
  }
  u->received += n;
  return n;
}

static void transmit(udp_t *u, int n) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = u->out_len[i];
    if (len <= 0 || len > u->out_slot) continue;
    u->siov[m].iov_base = u->out + (size_t)i * u->out_slot;
    u->siov[m].iov_len = (size_t)len;
    struct msghdr *h = &u->smsgs[m].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &u->addrs[i];
    h->msg_namelen = u->addrs[i].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    h->msg_iov = &u->siov[m];
    h->msg_iovlen = 1;
    m++;
  }
  int off = 0, waits = 0;
  while (off < m) {
    int r = sendmmsg(u->fd, u->smsgs + off, m - off, 0);
    if (r > 0) { off += r; u->sent += r; continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && waits < 3) {
      // The send buffer is full: wait a moment for room rather than drop a whole batch.
      struct pollfd pfd = { .fd = u->fd, .events = POLLOUT };
      poll(&pfd, 1, 1);
      waits++;
      continue;
    }
    // This datagram cannot go (an unreachable address, say): skip it, keep the rest.
    u->send_errors++;
    off++;
  }
}

/** Calls onBatch(n) from the event loop, with a callback scope (microtasks run after it). */
static void deliver(udp_t *u, int n) {
  napi_env env = u->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, u->on_batch, &cb);
  napi_get_global(env, &recv); // napi_make_callback wants an object as receiver
  napi_create_int32(env, n, &arg);
  if (napi_make_callback(env, u->async, recv, cb, 1, &arg, &result) == napi_pending_exception) {
    // onBatch catches its own errors; anything left is a bug: report it, keep the socket.
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static int serve(udp_t *u, int rounds) {
  int total = 0;
  for (int r = 0; r < rounds && u->fd >= 0; r++) {
    int n = receive(u);
    if (n == 0) break;
    deliver(u, n);
    if (u->fd < 0) break;
    transmit(u, n);
    total += n;
    if (n < u->batch) break;
  }
  return total;
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  udp_t *u = (udp_t *)p->data;
  if (status < 0 || u->fd < 0) return;
  serve(u, ROUNDS);
}

static udp_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) { napi_throw_type_error(env, NULL, "not a udp_batch handle"); return NULL; }
  return (udp_t *)p;
}

static napi_value buffer(napi_env env, udp_t *u, int slot, size_t size, void **data) {
  napi_value b;
  if (napi_create_buffer(env, size, data, &b) != napi_ok) return NULL;
  memset(*data, 0, size);
  napi_create_reference(env, b, 1, &u->buffers[slot]);
  return b;
}

/** open(host, port, v6, reusePort, rcvbuf, batch, slot, outSlot, onBatch) -> { handle, port, in, inLen, peer, out, outLen } */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) { napi_throw_type_error(env, NULL, "open needs 9 arguments"); return NULL; }
  char host[64];
  size_t hl;
  int32_t port, rcvbuf, batch, slot, out_slot;
  bool v6, reuse;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &v6));
  CHECK(napi_get_value_bool(env, argv[3], &reuse));
  CHECK(napi_get_value_int32(env, argv[4], &rcvbuf));
  CHECK(napi_get_value_int32(env, argv[5], &batch));
  CHECK(napi_get_value_int32(env, argv[6], &slot));
  CHECK(napi_get_value_int32(env, argv[7], &out_slot));
  if (batch < 1 || batch > 1024 || slot < 512 || slot > 65536 || out_slot < 512 || out_slot > 65536) {
    napi_throw_range_error(env, NULL, "batch 1..1024, slots 512..65536");
    return NULL;
  }
  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof addr);
  socklen_t alen;
  if (v6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&addr;
    s->sin6_family = AF_INET6; s->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &s->sin6_addr) != 1) { napi_throw_type_error(env, NULL, "not an IPv6 address"); return NULL; }
    alen = sizeof *s;
  } else {
    struct sockaddr_in *s = (struct sockaddr_in *)&addr;
    s->sin_family = AF_INET; s->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &s->sin_addr) != 1) { napi_throw_type_error(env, NULL, "not an IPv4 address"); return NULL; }
    alen = sizeof *s;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket");
  int one = 1;
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) { close(fd); return throw_errno(env, "SO_REUSEPORT"); }
  // A burst must queue in the kernel, not be dropped (capped at net.core.rmem_max without error).
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *)&addr, alen) < 0) { int e = errno; close(fd); errno = e; return throw_errno(env, "bind"); }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  int bound_port = ntohs(v6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);

  udp_t *u = calloc(1, sizeof *u);
  u->fd = fd; u->family = v6 ? 6 : 4; u->batch = batch; u->slot = slot; u->out_slot = out_slot; u->env = env;
  u->rmsgs = calloc(batch, sizeof *u->rmsgs);
  u->smsgs = calloc(batch, sizeof *u->smsgs);
  u->riov = calloc(batch, sizeof *u->riov);
  u->siov = calloc(batch, sizeof *u->siov);
  u->addrs = calloc(batch, sizeof *u->addrs);
  napi_value obj, in, in_len, peer, out, out_len, handle, pv, ab;
  CHECK(napi_create_object(env, &obj));
  in = buffer(env, u, 0, (size_t)batch * slot, (void **)&u->in);
  peer = buffer(env, u, 1, (size_t)batch * PEER_SIZE, (void **)&u->peer);
  out = buffer(env, u, 2, (size_t)batch * out_slot, (void **)&u->out);
  void *d;
  CHECK(napi_create_arraybuffer(env, (size_t)batch * 4, &d, &ab));
  u->in_len = d;
  CHECK(napi_create_typedarray(env, napi_int32_array, batch, ab, 0, &in_len));
  napi_create_reference(env, in_len, 1, &u->buffers[3]);
  CHECK(napi_create_arraybuffer(env, (size_t)batch * 4, &d, &ab));
  u->out_len = d;
  CHECK(napi_create_typedarray(env, napi_int32_array, batch, ab, 0, &out_len));
  napi_create_reference(env, out_len, 1, &u->buffers[4]);
  for (int i = 0; i < batch; i++) {
    u->riov[i].iov_base = u->in + (size_t)i * slot;
    u->riov[i].iov_len = (size_t)slot;
    u->rmsgs[i].msg_hdr.msg_name = &u->addrs[i];
    u->rmsgs[i].msg_hdr.msg_iov = &u->riov[i];
    u->rmsgs[i].msg_hdr.msg_iovlen = 1;
  }
  CHECK(napi_create_reference(env, argv[8], 1, &u->on_batch));
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "glidepath:udp-batch", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_async_init(env, resource, name, &u->async));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &u->poll, fd);
  u->poll.data = u;
  uv_poll_start(&u->poll, UV_READABLE, on_readable);
  u->polling = 1;
  CHECK(napi_create_external(env, u, NULL, NULL, &handle));
  napi_create_int32(env, bound_port, &pv);
  napi_set_named_property(env, obj, "handle", handle);
  napi_set_named_property(env, obj, "port", pv);
  napi_set_named_property(env, obj, "in", in);
  napi_set_named_property(env, obj, "inLen", in_len);
  napi_set_named_property(env, obj, "peer", peer);
  napi_set_named_property(env, obj, "out", out);
  napi_set_named_property(env, obj, "outLen", out_len);
  return obj;
}

/** leave(handle): stop taking new datagrams from the SO_REUSEPORT group without losing those
 *  queued: a connected UDP socket matches only its peer, so the kernel hands every new datagram to
 *  the group's other sockets; then what is queued is read and answered until none is left. */
static napi_value leave(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = unwrap(env, argv[0]);
  if (!u || u->fd < 0) return NULL;
  struct sockaddr_storage self;
  socklen_t len = sizeof self;
  getsockname(u->fd, (struct sockaddr *)&self, &len);
  // Connect to our own address on the discard port: no client sends from there.
  if (self.ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)&self;
    if (s->sin_addr.s_addr == htonl(INADDR_ANY)) s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->sin_port = htons(9);
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&self;
    if (IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr)) s->sin6_addr = in6addr_loopback;
    s->sin6_port = htons(9);
  }
  if (connect(u->fd, (struct sockaddr *)&self, len) < 0) return throw_errno(env, "connect");
  while (u->fd >= 0 && serve(u, 1) > 0) {}
  return NULL;
}

static void closed(uv_handle_t *h) {
  udp_t *u = (udp_t *)h->data;
  free(u->rmsgs); free(u->smsgs); free(u->riov); free(u->siov); free(u->addrs);
  free(u);
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = unwrap(env, argv[0]);
  if (!u || u->fd < 0) return NULL;
  uv_poll_stop(&u->poll);
  close(u->fd);
  u->fd = -1;
  napi_delete_reference(env, u->on_batch);
  for (int i = 0; i < 5; i++) napi_delete_reference(env, u->buffers[i]);
  napi_async_destroy(env, u->async);
  uv_close((uv_handle_t *)&u->poll, closed);
  return NULL;
}

/** send(handle, buffer, peer): one datagram outside a batch (a deferred answer, such as UPDATE's)
 *  to the address in `peer` (the 20-octet form of the peer buffer). */
static napi_value send_one(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = unwrap(env, argv[0]);
  if (!u || u->fd < 0) return NULL;
  void *data, *peer;
  size_t len, plen;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  CHECK(napi_get_buffer_info(env, argv[2], &peer, &plen));
  if (plen < PEER_SIZE) { napi_throw_range_error(env, NULL, "peer is 20 octets"); return NULL; }
  const uint8_t *p = peer;
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  socklen_t alen;
  if (p[0] == 4) {
    struct sockaddr_in *s = (struct sockaddr_in *)&a;
    s->sin_family = AF_INET; memcpy(&s->sin_port, p + 2, 2); memcpy(&s->sin_addr, p + 4, 4); alen = sizeof *s;
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a;
    s->sin6_family = AF_INET6; memcpy(&s->sin6_port, p + 2, 2); memcpy(&s->sin6_addr, p + 4, 16); alen = sizeof *s;
  }
  if (sendto(u->fd, data, len, 0, (struct sockaddr *)&a, alen) < 0) u->send_errors++; else u->sent++;
  return NULL;
}

/** stats(handle) -> [received, sent, sendErrors] */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], arr, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  udp_t *u = unwrap(env, argv[0]);
  if (!u) return NULL;
  napi_create_array_with_length(env, 3, &arr);
  napi_create_double(env, u->received, &v); napi_set_element(env, arr, 0, v);
  napi_create_double(env, u->sent, &v); napi_set_element(env, arr, 1, v);
  napi_create_double(env, u->send_errors, &v); napi_set_element(env, arr, 2, v);
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL },
    { "leave", NULL, leave, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, send_one, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
