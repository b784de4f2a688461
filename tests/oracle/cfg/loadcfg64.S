/*
 * x64 load config and the runtime symbols /guard:cf code needs, for the CFG test DLL (there is
 * no CRT). Offsets are those of HP_IMAGE_LOAD_CONFIG_DIRECTORY64 in pe/format.h. The plain
 * numeric fields hold distinct markers so a field read at the wrong offset shows up.
 * LC_SIZE (the structure's Size) may be set smaller to test partial load configs: lld-link
 * copies it into the data directory.
 */
#ifndef LC_SIZE
#define LC_SIZE 0x148
#endif
        .section .rdata,"dr"
        .p2align 3
        .globl _load_config_used
_load_config_used:
        .long LC_SIZE                       /* 0x00 Size */
        .long 0x5f5e1000                    /* 0x04 TimeDateStamp */
        .short 1, 2                         /* 0x08 MajorVersion, MinorVersion */
        .long 0x10, 0x20, 0x30              /* 0x0c GlobalFlagsClear/Set, CriticalSection... */
        .quad 0x40, 0x50                    /* 0x18 DeCommitFree/TotalFreeThreshold */
        .quad 0                             /* 0x28 LockPrefixTable */
        .quad 0x60, 0x70, 0x80              /* 0x30 MaximumAllocationSize, VirtualMemory-
                                               Threshold, ProcessAffinityMask */
        .long 0x90                          /* 0x48 ProcessHeapFlags */
        .short 0xa0, 0x800                  /* 0x4c CSDVersion, DependentLoadFlags */
        .quad 0                             /* 0x50 EditList */
        .quad __security_cookie             /* 0x58 SecurityCookie */
        .quad 0, 0                          /* 0x60 SEHandlerTable, SEHandlerCount */
        .quad __guard_check_icall_fptr      /* 0x70 GuardCFCheckFunctionPointer */
        .quad __guard_dispatch_icall_fptr   /* 0x78 GuardCFDispatchFunctionPointer */
        .quad __guard_fids_table            /* 0x80 GuardCFFunctionTable */
        .quad __guard_fids_count            /* 0x88 GuardCFFunctionCount */
        .long __guard_flags                 /* 0x90 GuardFlags */
        .org 0xa0                           /* 0x94 CodeIntegrity */
        .quad __guard_iat_table             /* 0xa0 GuardAddressTakenIatEntryTable */
        .quad __guard_iat_count             /* 0xa8 GuardAddressTakenIatEntryCount */
        .quad __guard_longjmp_table         /* 0xb0 GuardLongJumpTargetTable */
        .quad __guard_longjmp_count         /* 0xb8 GuardLongJumpTargetCount */
        .org 0x108
        .quad __guard_eh_cont_table         /* 0x108 GuardEHContinuationTable */
        .quad __guard_eh_cont_count         /* 0x110 GuardEHContinuationCount */
        .org 0x148

        .globl "??_7type_info@@6B@"         /* type_info's vtable, named by C++ RTTI */
"??_7type_info@@6B@":
        .quad 0

        .data
        .p2align 3
        .globl __security_cookie
__security_cookie:
        .quad 0x00002b992ddfa232

        /* The loader points these at its checks; until then they do nothing. */
        .section .00cfg,"dr"
        .p2align 3
        .globl __guard_check_icall_fptr
__guard_check_icall_fptr:
        .quad guard_check_nop
        .globl __guard_dispatch_icall_fptr
__guard_dispatch_icall_fptr:
        .quad guard_dispatch_nop

        .text
guard_check_nop:
        retq
guard_dispatch_nop:
        jmpq *%rax
        .globl _setjmp
_setjmp:
        xorl %eax, %eax
        retq
        .globl __CxxFrameHandler3
__CxxFrameHandler3:
        movl $1, %eax
        retq
