/*
 * x86 load config and the runtime symbols /guard:cf code needs, for the CFG test DLL (there is
 * no CRT). Offsets are those of HP_IMAGE_LOAD_CONFIG_DIRECTORY32 in pe/format.h; the markers
 * are the x64 file's, in the x86 order (ProcessHeapFlags before ProcessAffinityMask).
 * LC_SIZE (the structure's Size) may be set smaller to test partial load configs.
 */
#ifndef LC_SIZE
#define LC_SIZE 0xc4
#endif
        /* SafeSEH-compatible object with CFG (bit 0 and 0x800). */
        .def @feat.00; .scl 3; .type 0; .endef
        .globl @feat.00
@feat.00 = 0x801

        .section .rdata,"dr"
        .p2align 2
        .globl __load_config_used
__load_config_used:
        .long LC_SIZE                       /* 0x00 Size */
        .long 0x5f5e1000                    /* 0x04 TimeDateStamp */
        .short 1, 2                         /* 0x08 MajorVersion, MinorVersion */
        .long 0x10, 0x20, 0x30              /* 0x0c GlobalFlagsClear/Set, CriticalSection... */
        .long 0x40, 0x50                    /* 0x18 DeCommitFree/TotalFreeThreshold */
        .long 0                             /* 0x20 LockPrefixTable */
        .long 0x60, 0x70                    /* 0x24 MaximumAllocationSize, VirtualMemory... */
        .long 0x90, 0x80                    /* 0x2c ProcessHeapFlags, ProcessAffinityMask */
        .short 0xa0, 0x800                  /* 0x34 CSDVersion, DependentLoadFlags */
        .long 0                             /* 0x38 EditList */
        .long ___security_cookie            /* 0x3c SecurityCookie */
        .long ___safe_se_handler_table      /* 0x40 SEHandlerTable */
        .long ___safe_se_handler_count      /* 0x44 SEHandlerCount */
        .long ___guard_check_icall_fptr     /* 0x48 GuardCFCheckFunctionPointer */
        .long 0                             /* 0x4c GuardCFDispatchFunctionPointer: x64 only */
        .long ___guard_fids_table           /* 0x50 GuardCFFunctionTable */
        .long ___guard_fids_count           /* 0x54 GuardCFFunctionCount */
        .long ___guard_flags                /* 0x58 GuardFlags */
        .org 0x68                           /* 0x5c CodeIntegrity */
        .long ___guard_iat_table            /* 0x68 GuardAddressTakenIatEntryTable */
        .long ___guard_iat_count            /* 0x6c GuardAddressTakenIatEntryCount */
        .long ___guard_longjmp_table        /* 0x70 GuardLongJumpTargetTable */
        .long ___guard_longjmp_count        /* 0x74 GuardLongJumpTargetCount */
        .org 0xa4
        .long ___guard_eh_cont_table        /* 0xa4 GuardEHContinuationTable */
        .long ___guard_eh_cont_count        /* 0xa8 GuardEHContinuationCount */
        .org 0xc4

        .globl "??_7type_info@@6B@"         /* type_info's vtable, named by C++ RTTI */
"??_7type_info@@6B@":
        .long 0

        .data
        .p2align 2
        .globl ___security_cookie
___security_cookie:
        .long 0xbb40e64e

        /* The loader points this at its check; until then it does nothing. */
        .section .00cfg,"dr"
        .p2align 2
        .globl ___guard_check_icall_fptr
___guard_check_icall_fptr:
        .long guard_check_nop

        .text
guard_check_nop:
        retl
        .globl __setjmp3
__setjmp3:
        xorl %eax, %eax
        retl
        .globl ___CxxFrameHandler3
___CxxFrameHandler3:
        movl $1, %eax
        retl
