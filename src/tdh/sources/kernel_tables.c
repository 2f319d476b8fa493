/* The kernel class rows (see kernel_tables.h). Field lists follow the Windows 11 kernel MOF and
 * the Vista MOF, cross-checked with TraceEvent's offsets (format notes §5.3); where the sources
 * disagree the notes' choice is used (D2: MOF order for TcpIp seqnum/connid; D9: Process V4
 * has Flags). */
#include "tdh/sources/kernel_tables.h"

enum { EVENTTRACE, PROCESS, THREAD, IMAGE, DISKIO, FILEIO, PAGEFAULT, TCPIP, UDPIP, PERFINFO,
       STACKWALK, REGISTRY, SYSCONFIG, SYSCONFIGEX, IMAGEID, METADATA, WINSAT, PERFTRACK };

const etw_kclass etw_kclasses[] = {
    [EVENTTRACE] = {{0x68fdd900, 0x4a3e, 0x11d1, {0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64, 0xe3}}, "Windows Kernel", "EventTrace"},
    [PROCESS] = {{0x3d6fa8d0, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}}, "Windows Kernel", "Process"},
    [THREAD] = {{0x3d6fa8d1, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}}, "Windows Kernel", "Thread"},
    [IMAGE] = {{0x2cb15d1d, 0x5fc1, 0x11d2, {0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18}}, "Windows Kernel", "Image"},
    [DISKIO] = {{0x3d6fa8d4, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}}, "Windows Kernel", "DiskIO"},
    [FILEIO] = {{0x90cbdc39, 0x4a3e, 0x11d1, {0x84, 0xf4, 0x00, 0x00, 0xf8, 0x04, 0x64, 0xe3}}, "Windows Kernel", "FileIO"},
    [PAGEFAULT] = {{0x3d6fa8d3, 0xfe05, 0x11d0, {0x9d, 0xda, 0x00, 0xc0, 0x4f, 0xd7, 0xba, 0x7c}}, "Windows Kernel", "Memory"},
    [TCPIP] = {{0x9a280ac0, 0xc8e0, 0x11d1, {0x84, 0xe2, 0x00, 0xc0, 0x4f, 0xb9, 0x98, 0xa2}}, "Windows Kernel", "TcpIp"},
    [UDPIP] = {{0xbf3a50c5, 0xa9c9, 0x4988, {0xa0, 0x05, 0x2d, 0xf0, 0xb7, 0xc8, 0x0f, 0x80}}, "Windows Kernel", "UdpIp"},
    [PERFINFO] = {{0xce1dbfb4, 0x137e, 0x4da6, {0x87, 0xb0, 0x3f, 0x59, 0xaa, 0x10, 0x2c, 0xbc}}, "Windows Kernel", "PerfInfo"},
    [STACKWALK] = {{0xdef2fe46, 0x7bd6, 0x4b80, {0xbd, 0x94, 0xf5, 0x7f, 0xe2, 0x0d, 0x0c, 0xe3}}, "Windows Kernel", "StackWalk"},
    [REGISTRY] = {{0xae53722e, 0xc863, 0x11d2, {0x86, 0x59, 0x00, 0xc0, 0x4f, 0xa3, 0x21, 0xa1}}, "Windows Kernel", "Registry"},
    [SYSCONFIG] = {{0x01853a65, 0x418f, 0x4f36, {0xae, 0xfc, 0xdc, 0x0f, 0x1d, 0x2f, 0xd2, 0x35}}, "Windows Kernel", "SystemConfig"},
    [SYSCONFIGEX] = {{0x9b79ee91, 0xb5fd, 0x41c0, {0xa2, 0x43, 0x42, 0x48, 0xe2, 0x66, 0xe9, 0xd0}}, "Windows Kernel", "SysConfig"},
    [IMAGEID] = {{0xb3e675d7, 0x2554, 0x4f18, {0x83, 0x0b, 0x27, 0x62, 0x73, 0x25, 0x60, 0xde}}, "KernelTraceControl", "ImageID"},
    [METADATA] = {{0xbbccf6c1, 0x6cd1, 0x48c4, {0x80, 0xff, 0x83, 0x94, 0x82, 0xe3, 0x76, 0x71}}, "KernelTraceControl", "MetaData"},
    /* Merge-time WinSAT assessment XML (notes §4.4; payload in winsat.h). */
    [WINSAT] = {{0xed54dff8, 0xc409, 0x4cf6, {0xbf, 0x83, 0x05, 0xe1, 0xe6, 0x1a, 0x09, 0xc4}}, "WinSATAssessment", "WinSAT"},
    /* Merge-time PerfTrack metadata (notes §4.4 list the GUID as unused by TraceEvent). */
    [PERFTRACK] = {{0xbf6ef1cb, 0x89b5, 0x490a, {0x80, 0xac, 0xb1, 0x80, 0xcf, 0xbc, 0xff, 0x0f}}, "PerfTrack", "PerfTrack"},
};
const size_t etw_kclass_count = sizeof etw_kclasses / sizeof etw_kclasses[0];

#define PROC_OPS "1=Start 2=Stop 3=DCStart 4=DCStop 39=Defunct"
#define THREAD_OPS "1=Start 2=Stop 3=DCStart 4=DCStop"
#define THREAD_V2 "ProcessId:u32 TThreadId:u32 StackBase:p StackLimit:p UserStackBase:p UserStackLimit:p StartAddr:p Win32StartAddr:p TebBase:p SubProcessTag:x32"
#define IMAGE_OPS "10=Load 2=Unload 3=DCStart 4=DCStop"
#define TCP_HDR4 "PID:u32 size:u32 daddr:ip4 saddr:ip4 dport:port sport:port"
#define TCP_HDR6 "PID:u32 size:u32 daddr:ip6 saddr:ip6 dport:port sport:port"
#define TCP_CONN "mss:u16 sackopt:u16 tsopt:u16 wsopt:u16 rcvwin:u32 rcvwinscale:i16 sndwinscale:i16 seqnum:u32 connid:p"
#define FILE_INFO_OPS "69=SetInfo 70=Delete 71=Rename 74=QueryInfo 75=FSControl"
#define REG_OPS "10=Create 11=Open 12=Delete 13=Query 14=SetValue 15=DeleteValue 16=QueryValue 17=EnumerateKey 18=EnumerateValueKey 19=QueryMultipleValue 20=SetInformation 21=Flush 22=KCBCreate 23=KCBDelete 24=KCBRundownBegin 25=KCBRundownEnd 26=Virtualize 27=Close"

const etw_klayout etw_klayouts[] = {
    /* EventTrace header: TRACE_LOGFILE_HEADER as logged, then the names (notes §5.3). */
    {EVENTTRACE, 2, "0=", "BufferSize:u32 Version:x32 ProviderVersion:u32 NumberOfProcessors:u32 EndTime:ft TimerResolution:u32 MaxFileSize:u32 LogFileMode:x32 BuffersWritten:u32 StartBuffers:u32 PointerSize:u32 EventsLost:u32 CPUSpeed:u32 LoggerNamePtr:p LogFileNamePtr:p TimeZoneInformation:b176 BootTime:ft PerfFreq:u64 StartTime:ft ReservedFlags:u32 BuffersLost:u32 SessionName:w LogFileName:w"},
    {EVENTTRACE, 2, "5=Extension 32=EndExtension", "GroupMask*8:x32 KernelEventVersion:u32"},
    {EVENTTRACE, 2, "8=RundownComplete", ""},
    /* Header-buffer partition record (format notes B.9, v0 layout; 48 bytes in every corpus file). */
    {EVENTTRACE, 2, "80=PartitionInfoExtension", "Version:u16 Reserved:u16 PartitionType:u32 QpcOffsetFromRoot:i64 PartitionId:g ParentPartitionId:g"},
    {PROCESS, 1, PROC_OPS, "PageDirectoryBase:p ProcessId:u32 ParentId:u32 SessionId:u32 ExitStatus:i32 UserSID:sid ImageFileName:a"},
    {PROCESS, 2, PROC_OPS, "UniqueProcessKey:p ProcessId:u32 ParentId:u32 SessionId:u32 ExitStatus:i32 UserSID:sid ImageFileName:a CommandLine:w"},
    {PROCESS, 3, PROC_OPS, "UniqueProcessKey:p ProcessId:u32 ParentId:u32 SessionId:u32 ExitStatus:i32 DirectoryTableBase:p UserSID:sid ImageFileName:a CommandLine:w"},
    {PROCESS, 4, PROC_OPS, "UniqueProcessKey:p ProcessId:u32 ParentId:u32 SessionId:u32 ExitStatus:i32 DirectoryTableBase:p Flags:x32 UserSID:sid ImageFileName:a CommandLine:w PackageFullName:w ApplicationId:w"},
    {PROCESS, 5, PROC_OPS, "UniqueProcessKey:p ProcessId:u32 ParentId:u32 SessionId:u32 ExitStatus:i32 DirectoryTableBase:p Flags:x32 UserSID:sid ImageFileName:a CommandLine:w PackageFullName:w ApplicationId:w ExitTime:ft"},
    {PROCESS, 2, "32=PerfCtr 33=PerfCtrRundown", "ProcessId:u32 PageFaultCount:u32 HandleCount:u32 Reserved:u32 PeakVirtualSize:z PeakWorkingSetSize:z PeakPagefileUsage:z QuotaPeakPagedPoolUsage:z QuotaPeakNonPagedPoolUsage:z VirtualSize:z WorkingSetSize:z PagefileUsage:z QuotaPagedPoolUsage:z QuotaNonPagedPoolUsage:z PrivatePageCount:z"},
    {PROCESS, 2, "11=Terminate", "ProcessId:u32"},
    {PROCESS, 2, "35=InSwap", "DirectoryTableBase:p ProcessId:u32"},
    {THREAD, 1, THREAD_OPS, "ProcessId:u32 TThreadId:u32 StackBase:p StackLimit:p UserStackBase:p UserStackLimit:p StartAddr:p Win32StartAddr:p WaitMode:i8"},
    {THREAD, 2, THREAD_OPS, THREAD_V2},
    {THREAD, 3, THREAD_OPS, THREAD_V2 " BasePriority:u8 PagePriority:u8 IoPriority:u8 ThreadFlags:u8"},
    {THREAD, 4, THREAD_OPS, THREAD_V2 " BasePriority:u8 PagePriority:u8 IoPriority:u8 ThreadFlags:u8 ThreadName:w"},
    {THREAD, 2, "36=CSwitch", "NewThreadId:u32 OldThreadId:u32 NewThreadPriority:i8 OldThreadPriority:i8 PreviousCState:u8 SpareByte:i8 OldThreadWaitReason:i8 OldThreadWaitMode:i8 OldThreadState:i8 OldThreadWaitIdealProcessor:i8 NewThreadWaitTime:u32 Reserved:u32"},
    {THREAD, 2, "50=ReadyThread", "TThreadId:u32 AdjustReason:i8 AdjustIncrement:i8 Flag:i8 Reserved:i8"},
    {THREAD, 2, "72=SetName", "ProcessId:u32 ThreadId:u32 ThreadName:w"},
    {IMAGE, 0, IMAGE_OPS, "BaseAddress:p ModuleSize:u32 ImageFileName:w"},
    {IMAGE, 1, IMAGE_OPS, "ImageBase:p ImageSize:z ProcessId:u32 FileName:w"},
    {IMAGE, 2, IMAGE_OPS, "ImageBase:p ImageSize:z ProcessId:u32 ImageChecksum:u32 TimeDateStamp:u32 Reserved0:u32 DefaultBase:p Reserved1:u32 Reserved2:u32 Reserved3:u32 Reserved4:u32 FileName:w"},
    {IMAGE, 3, IMAGE_OPS, "ImageBase:p ImageSize:z ProcessId:u32 ImageChecksum:u32 TimeDateStamp:u32 SignatureLevel:u8 SignatureType:u8 Reserved0:u16 DefaultBase:p Reserved1:u32 Reserved2:u32 Reserved3:u32 Reserved4:u32 FileName:w"},
    {IMAGE, 2, "33=KernelBase", "ImageBase:p"},
    {DISKIO, 2, "10=Read 11=Write", "DiskNumber:u32 IrpFlags:x32 TransferSize:u32 Reserved:u32 ByteOffset:i64 FileObject:p Irp:p HighResResponseTime:u64"},
    {DISKIO, 3, "10=Read 11=Write 55=OpticalRead 56=OpticalWrite", "DiskNumber:u32 IrpFlags:x32 TransferSize:u32 Reserved:u32 ByteOffset:i64 FileObject:p Irp:p HighResResponseTime:u64 IssuingThreadId:u32"},
    {DISKIO, 2, "12=ReadInit 13=WriteInit 15=FlushInit", "Irp:p"},
    {DISKIO, 3, "12=ReadInit 13=WriteInit 15=FlushInit 58=OpticalReadInit 59=OpticalWriteInit 60=OpticalFlushInit", "Irp:p IssuingThreadId:u32"},
    {DISKIO, 2, "14=FlushBuffers", "DiskNumber:u32 IrpFlags:x32 HighResResponseTime:u64 Irp:p"},
    {DISKIO, 3, "14=FlushBuffers 57=OpticalFlushBuffers", "DiskNumber:u32 IrpFlags:x32 HighResResponseTime:u64 Irp:p IssuingThreadId:u32"},
    {FILEIO, 2, "0=Name 32=FileCreate 35=FileDelete 36=FileRundown", "FileObject:p FileName:w"},
    {FILEIO, 2, "64=Create", "IrpPtr:p TTID:p FileObject:p CreateOptions:x32 FileAttributes:x32 ShareAccess:x32 OpenPath:w"},
    {FILEIO, 3, "64=Create", "IrpPtr:p FileObject:p TTID:u32 CreateOptions:x32 FileAttributes:x32 ShareAccess:x32 OpenPath:w"},
    {FILEIO, 2, "67=Read 68=Write", "Offset:u64 IrpPtr:p TTID:p FileObject:p FileKey:p IoSize:u32 IoFlags:x32"},
    {FILEIO, 3, "67=Read 68=Write", "Offset:u64 IrpPtr:p FileObject:p FileKey:p TTID:u32 IoSize:u32 IoFlags:x32"},
    {FILEIO, 2, "65=Cleanup 66=Close 73=Flush", "IrpPtr:p TTID:p FileObject:p FileKey:p"},
    {FILEIO, 3, "65=Cleanup 66=Close 73=Flush", "IrpPtr:p FileObject:p FileKey:p TTID:u32"},
    {FILEIO, 2, FILE_INFO_OPS, "IrpPtr:p TTID:p FileObject:p FileKey:p ExtraInfo:p InfoClass:u32"},
    {FILEIO, 3, FILE_INFO_OPS, "IrpPtr:p FileObject:p FileKey:p ExtraInfo:p TTID:u32 InfoClass:u32"},
    {FILEIO, 2, "72=DirEnum 77=DirNotify", "IrpPtr:p TTID:p FileObject:p FileKey:p Length:u32 InfoClass:u32 FileIndex:u32 FileName:w"},
    {FILEIO, 3, "72=DirEnum 77=DirNotify", "IrpPtr:p FileObject:p FileKey:p TTID:u32 Length:u32 InfoClass:u32 FileIndex:u32 FileName:w"},
    {FILEIO, 2, "76=OperationEnd", "IrpPtr:p ExtraInfo:p NtStatus:x32"},
    {FILEIO, 2, "37=MapFile 38=UnmapFile 39=MapFileDCStart 40=MapFileDCStop", "ViewBase:p FileObject:p MiscInfo:u64 ViewSize:z ProcessId:u32"},
    {PAGEFAULT, 2, "10=TransitionFault 11=DemandZeroFault 12=CopyOnWrite 13=GuardPageFault 14=HardPageFault 15=AccessViolation", "VirtualAddress:p ProgramCounter:p"},
    {PAGEFAULT, 2, "32=HardFault", "InitialTime:u64 ReadOffset:u64 VirtualAddress:p FileObject:p TThreadId:u32 ByteCount:u32"},
    {TCPIP, 2, "10=Send", TCP_HDR4 " startime:u32 endtime:u32 seqnum:u32 connid:p"},
    {TCPIP, 2, "11=Recv 13=Disconnect 14=Retransmit 16=Reconnect 18=TCPCopy", TCP_HDR4 " seqnum:u32 connid:p"},
    {TCPIP, 2, "12=Connect 15=Accept", TCP_HDR4 " " TCP_CONN},
    {TCPIP, 2, "17=Fail", "Proto:u16 FailureCode:u16"},
    {TCPIP, 2, "26=SendIPV6", TCP_HDR6 " startime:u32 endtime:u32 seqnum:u32 connid:p"},
    {TCPIP, 2, "27=RecvIPV6 29=DisconnectIPV6 30=RetransmitIPV6 32=ReconnectIPV6 34=TCPCopyIPV6", TCP_HDR6 " seqnum:u32 connid:p"},
    {TCPIP, 2, "28=ConnectIPV6 31=AcceptIPV6", TCP_HDR6 " " TCP_CONN},
    {UDPIP, 2, "10=Send 11=Recv", TCP_HDR4 " seqnum:u32 connid:p"},
    {UDPIP, 2, "26=SendIPV6 27=RecvIPV6", TCP_HDR6 " seqnum:u32 connid:p"},
    {UDPIP, 2, "17=Fail", "Proto:u16 FailureCode:u16"},
    {PERFINFO, 2, "46=Sample", "InstructionPointer:p ThreadId:u32 Count:u16 Reserved:u16"},
    {PERFINFO, 2, "47=PMCSample", "InstructionPointer:p ThreadId:u32 ProfileSource:u16 Reserved:u16"},
    {PERFINFO, 2, "51=SysClEnter", "SysCallAddress:p"},
    {PERFINFO, 2, "52=SysClExit", "SysCallNtStatus:x32"},
    {PERFINFO, 2, "50=ISR-MSI 67=ISR 95=ISR-Unexpected", "InitialTime:u64 Routine:p ReturnValue:u8 Vector:u16 Reserved:u8"},
    {PERFINFO, 2, "66=ThreadedDPC 68=DPC 69=TimerDPC", "InitialTime:u64 Routine:p"},
    {PERFINFO, 2, "72=SetInterval 73=CollectionStart 74=CollectionEnd", "SampleSource:u32 NewInterval:u32 OldInterval:u32"},
    {STACKWALK, 2, "32=Stack", "EventTimeStamp:u64 StackProcess:u32 StackThread:u32 Stack*192:p"},
    {STACKWALK, 2, "34=KeyCreate 35=KeyDelete 36=KeyRundown", "StackKey:p Stack*192:p"},
    {STACKWALK, 2, "37=StackKeyKernel 38=StackKeyUser", "EventTimeStamp:u64 StackProcess:u32 StackThread:u32 StackKey:p"},
    {REGISTRY, 2, REG_OPS, "InitialTime:i64 Status:x32 Index:u32 KeyHandle:p KeyName:w"},
    /* SystemConfig layouts from the MicrosoftDocs class pages (newest documented version). */
    {SYSCONFIG, 2, "10=CPU", "MHz:u32 NumberOfProcessors:u32 MemSize:u32 PageSize:u32 AllocationGranularity:u32 ComputerName:w256 DomainName:w132 HyperThreadingFlag:x32"},
    {SYSCONFIG, 2, "11=PhyDisk", "DiskNumber:u32 BytesPerSector:u32 SectorsPerTrack:u32 TracksPerCylinder:u32 Cylinders:u64 SCSIPort:u32 SCSIPath:u32 SCSITarget:u32 SCSILun:u32 Manufacturer:w256 PartitionCount:u32 WriteCacheEnabled:u8 Pad:u8 BootDriveLetter:w3 Spare:w2"},
    {SYSCONFIG, 2, "12=LogDisk", "StartOffset:u64 PartitionSize:u64 DiskNumber:u32 Size:u32 DriveType:u32 DriveLetterString:w4 Pad1:u32 PartitionNumber:u32 SectorsPerCluster:u32 BytesPerSector:u32 Pad2:u32 NumberOfFreeClusters:i64 TotalNumberOfClusters:i64 FileSystem:w16 VolumeExt:u32 Pad3:u32"},
    {SYSCONFIG, 2, "13=NIC", "PhysicalAddr:x64 PhysicalAddrLen:u32 Ipv4Index:u32 Ipv6Index:u32 NICDescription:w IpAddresses:w DnsServerAddresses:w"},
    {SYSCONFIG, 2, "16=Power", "s1:u8 s2:u8 s3:u8 s4:u8 s5:u8 Pad1:u8 Pad2:u8 Pad3:u8"},
    {SYSCONFIG, 2, "15=Services", "ProcessId:u32 ServiceState:u32 SubProcessTag:u32 ServiceName:w DisplayName:w ProcessName:w"},
    {SYSCONFIG, 2, "14=Video", "MemorySize:u32 XResolution:u32 YResolution:u32 BitsPerPixel:u32 VRefresh:u32 ChipType:w256 DACType:w256 AdapterString:w256 BiosString:w256 DeviceID:w256 StateFlags:x32"},
    {SYSCONFIG, 2, "17=Network", "TcbTablePartitions:u32 MaxHashTableSize:i32 MaxUserPort:u32 TcpTimedWaitDelay:u32"},
    {SYSCONFIG, 2, "23=IDEChannel", "TargetID:u32 DeviceType:u32 DeviceTimingMode:x32 LocationInformationLen:u32 LocationInformation:w"},
    {SYSCONFIG, 2, "25=Platform", "SystemManufacturer:w SystemProductName:w BiosDate:w BiosVersion:w"},
    /* IRQ v3 from the data: the IRQ number is at offset 12 (TraceEvent reads offset 8). */
    {SYSCONFIG, 3, "21=IRQ", "IRQAffinity:x64 IRQGroup:u16 Reserved:u16 IRQNum:u32 DeviceDescriptionLen:u32 DeviceDescription:w"},
    /* PnP: v2 is the class page; v3 appends a fourth string, the PDO name (from the data).
     * v4/v5 from the data: class GUID, filter counts and the filter names after ServiceName;
     * v5 adds the devnode status and problem. */
    {SYSCONFIG, 2, "22=PnP", "IDLength:u32 DescriptionLength:u32 FriendlyNameLength:u32 DeviceID:w DeviceDescription:w FriendlyName:w"},
    {SYSCONFIG, 3, "22=PnP", "IDLength:u32 DescriptionLength:u32 FriendlyNameLength:u32 DeviceID:w DeviceDescription:w FriendlyName:w PdoName:w"},
    {SYSCONFIG, 4, "22=PnP", "ClassGuid:g UpperFilterCount:u32 LowerFilterCount:u32 DeviceID:w DeviceDescription:w FriendlyName:w PdoName:w ServiceName:w UpperFilters[UpperFilterCount]:w LowerFilters[LowerFilterCount]:w"},
    {SYSCONFIG, 5, "22=PnP", "ClassGuid:g UpperFilterCount:u32 LowerFilterCount:u32 DevStatus:x32 DevProblem:u32 DeviceID:w DeviceDescription:w FriendlyName:w PdoName:w ServiceName:w UpperFilters[UpperFilterCount]:w LowerFilters[LowerFilterCount]:w"},
    /* Layouts below established from the corpus payloads (docs/decoding.md), names from the
     * EVENT_TRACE_TYPE_CONFIG_* constants and the structures they carry. */
    {SYSCONFIG, 2, "18=OpticalMedia", "DiskNumber:u16 BusType:u16 DeviceType:u16 MediaType:u16 StartingOffset:u64 Size:u64 NumberOfFreeBlocks:u64 TotalNumberOfBlocks:u64 NextWritableAddress:u64 NumberOfSessions:u32 NumberOfTracks:u32 BytesPerSector:u32 DiscStatus:u16 LastSessionStatus:u16 DriveLetter:w FileSystemName:w DeviceName:a ManufacturerName:a"},
    {SYSCONFIG, 2, "28=DPI", "MachineDPI:u32 UserDPI:u32"},
    {SYSCONFIG, 2, "30=MachineId", "MachineId:g"},
    {SYSCONFIG, 2, "33=DeviceFamily", "UAPInfo:x64 DeviceFamily:u32 DeviceForm:u32"},
    {SYSCONFIG, 2, "35=Processor", "ProcessorIndex:u32 FeatureSet:x32 ProcessorSpeed:u32 ProcessorName:w64 ProcessorIdentifier:w128 VendorIdentifier:w16"},
    {SYSCONFIGEX, 0, "32=BuildInfo", "InstallDate:ft BuildLab:w ProductName:w"},
    {SYSCONFIGEX, 0, "33=SystemPaths", "SystemDirectory:w SystemWindowsDirectory:w"},
    {SYSCONFIGEX, 0, "34=UnknownVolume", "VolumeName:w"},
    {SYSCONFIGEX, 0, "35=VolumeMapping", "NtPath:w DosPath:w"},
    /* MIB_IF_ROW2 (netioapi.h) verbatim, one per interface (PktMon merges). */
    {SYSCONFIGEX, 0, "36=NetworkInterface", "InterfaceLuid:x64 InterfaceIndex:u32 InterfaceGuid:g Alias:w257 Description:w257 PhysicalAddressLength:u32 PhysicalAddress:b32 PermanentPhysicalAddress:b32 Mtu:u32 Type:u32 TunnelType:u32 MediaType:u32 PhysicalMediumType:u32 AccessType:u32 DirectionType:u32 InterfaceAndOperStatusFlags:x32 OperStatus:u32 AdminStatus:u32 MediaConnectState:u32 NetworkGuid:g ConnectionType:u32 Padding:u32 TransmitLinkSpeed:u64 ReceiveLinkSpeed:u64 InOctets:u64 InUcastPkts:u64 InNUcastPkts:u64 InDiscards:u64 InErrors:u64 InUnknownProtos:u64 InUcastOctets:u64 InMulticastOctets:u64 InBroadcastOctets:u64 OutOctets:u64 OutUcastPkts:u64 OutNUcastPkts:u64 OutDiscards:u64 OutErrors:u64 OutUcastOctets:u64 OutMulticastOctets:u64 OutBroadcastOctets:u64 OutQLen:u64"},
    /* The RtlGetDeviceFamilyInfoEnum triple, as SystemConfig/DeviceFamily (same bytes). */
    {SYSCONFIGEX, 0, "37=DeviceFamily", "UAPInfo:x64 DeviceFamily:u32 DeviceForm:u32"},
    {IMAGEID, 2, "0=", "ImageBase:p ImageSize:z ProcessId:u32 TimeDateStamp:u32 OriginalFileName:w"},
    {IMAGEID, 2, "32=None", ""},
    {IMAGEID, 2, "36=DbgID_RSDS 37=DbgID_ILRSDS", "ImageBase:p ProcessId:u32 GuidSig:g Age:u32 PdbFileName:a"},
    {IMAGEID, 2, "38=DbgPPDB", "ImageBase:p ProcessId:u32 TimeDateStamp:u32 MajorVersion:u16 MinorVersion:u16"},
    {IMAGEID, 2, "40=DbgDeterm", "ImageBase:p ProcessId:u32"},
    {IMAGEID, 2, "64=FileVersion", "ImageSize:u32 TimeDateStamp:u32 OrigFileName:w FileDescription:w FileVersion:w BinFileVersion:w VerLanguage:w ProductName:w CompanyName:w ProductVersion:w FileId:w ProgramId:w"},
    {METADATA, 0, "32=EventInfo 33=EventMapInfo", ""},
    /* WinSAT: the LZNT1-compressed UTF-16 XML follows; the CLI shows it inflated (winsat.h). */
    {WINSAT, 0, "33=WinSPR 35=Metrics 37=SystemConfig", "Version:u32 UncompressedSize:u32"},
    /* PerfTrack, from the data (uiforetw/out-relogged.etl): 33 a scenario manifest, u32 size
     * then LZNT1 UTF-8 XML (shown inflated, winsat.h); 34 one interaction class per event, its
     * name and a threshold (Typical 60000, LongRunning 6000000; unit not established). */
    {PERFTRACK, 1, "33=ScenarioManifest", "UncompressedSize:u32"},
    {PERFTRACK, 1, "34=InteractionClass", "Name:a Threshold:u32"},
};
const size_t etw_klayout_count = sizeof etw_klayouts / sizeof etw_klayouts[0];
