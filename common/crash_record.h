/*
 * crash_record.h — what the in-process signal handler tells the watchdog.
 *
 * The handler fills one preallocated record and sends it as a single
 * datagram on the crash socket (AF_UNIX SOCK_SEQPACKET, so a record arrives
 * whole or not at all, and MSG_NOSIGNAL keeps a dead watchdog from killing
 * the app with SIGPIPE). The watchdog answers on the same socket with one
 * cw__crash_ack once it has copied out what it needs; the app then dies by its
 * original signal.
 *
 * Header-only, plain data: usable from signal context.
 */
#ifndef CW_CRASH_RECORD_H
#define CW_CRASH_RECORD_H

#include <stdint.h>

#define CW_CRASH_RECORD_MAGIC 0x31525743u /* "CWR1" little-endian */
#define CW_CRASH_RECORD_VERSION 1u

/* The machine context at the fault, per architecture. */
#if defined(__x86_64__)
#define CW_CONTEXT_NGREG 23 /* glibc's NGREG: gregset_t of mcontext_t */
typedef struct {
  uint64_t gregs[CW_CONTEXT_NGREG]; /* indexed by REG_R8 ... REG_CR2 */
  uint8_t fpregs[512];              /* FXSAVE image (struct _libc_fpstate) */
  uint32_t has_fpregs;              /* 0 if the kernel gave no fpstate */
  uint32_t reserved;
} cw__crash_context_t;
#else
#error "crashwatch: no crash context for this architecture yet"
#endif

typedef struct {
  uint32_t magic;   /* CW_CRASH_RECORD_MAGIC */
  uint32_t version; /* CW_CRASH_RECORD_VERSION */
  uint32_t size;    /* sizeof(cw__crash_record_t) */
  int32_t signo;
  int32_t si_code;
  int32_t si_errno;
  int32_t pid;        /* thread group id of the crashed process */
  int32_t tid;        /* the crashing thread */
  int32_t sender_pid; /* SI_USER/SI_QUEUE/SI_TKILL: who sent the signal */
  int32_t reserved0;
  uint64_t fault_addr;        /* si_addr */
  uint64_t time_realtime_ns;  /* CLOCK_REALTIME at the fault */
  uint64_t time_monotonic_ns; /* CLOCK_MONOTONIC at the fault */
  uint64_t ucontext_addr;     /* where the ucontext lives in the app */
  uint64_t handler_sp;        /* the handler's stack pointer (alt stack) */
  cw__crash_context_t context;
} cw__crash_record_t;

/* The watchdog's answer. status is 0 when the capture succeeded (the app may
 * die now), or a negative CW_E* code when it failed (the app dies anyway). */
#define CW_CRASH_ACK_MAGIC 0x314b4143u /* "CAK1" */
typedef struct {
  uint32_t magic;
  int32_t status;
} cw__crash_ack_t;

#endif /* CW_CRASH_RECORD_H */
