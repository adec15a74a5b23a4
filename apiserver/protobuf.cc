#include "apiserver/protobuf.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "common/util/time.h"

namespace kubepp::apiserver {
namespace {

using api::Allocator;
using api::Value;

// ---------------------------------------------------------------------------------------
// Schema: one entry per message, "<package>.<Name>" and its fields as space-separated
// `jsonName=number[:type]`. Types read like Go: string (the default), int32, int64, bool,
// bytes, Time, MicroTime, IntOrString, Quantity, FieldsV1, or a message (named relative
// to the entry's package unless qualified); `*T` is a Go pointer scalar (kept when
// present, even if zero), `[]T` a repeated field, `map[T]` a map<string, T>. The name
// `,inline` (Go's `json:",inline"`) merges a message's fields into its parent's object.
//
// Numbers, JSON names and pointer-ness are those of k8s.io/api v1.33 (the descriptors
// registered by kubectl 1.33: generated.proto plus the gogoproto nullable option). Every
// field of every message reachable from kKinds is listed, so nothing a 1.33 client sends
// for those kinds is unknown. The message graph is acyclic (13 levels at most), which
// bounds the decoder's recursion.
struct MessageSpec {
  std::string_view name;
  std::string_view fields;
};

constexpr MessageSpec kMessages[] = {
    // The envelope and the value types, whose JSON forms are not objects.
    {"runtime.Unknown", "typeMeta=1:TypeMeta raw=2 contentEncoding=3 contentType=4"},
    {"runtime.TypeMeta", "apiVersion=1 kind=2"},
    {"meta.v1.Time", "seconds=1:int64 nanos=2:int32"},
    {"meta.v1.MicroTime", "seconds=1:int64 nanos=2:int32"},
    {"meta.v1.FieldsV1", "raw=1"},
    {"intstr.IntOrString", "type=1:int64 intVal=2:int32 strVal=3"},
    {"resource.Quantity", "string=1"},
    // The objects.
    {"meta.v1.Condition", "type=1 status=2 observedGeneration=3:int64 lastTransitionTime=4:Time "
     "reason=5 message=6"},
    {"meta.v1.DeleteOptions", "gracePeriodSeconds=1:*int64 preconditions=2:Preconditions "
     "orphanDependents=3:*bool propagationPolicy=4:*string dryRun=5:[]string "
     "ignoreStoreReadErrorWithClusterBreakingPotential=6:*bool"},
    {"meta.v1.LabelSelector", "matchLabels=1:map[string] "
     "matchExpressions=2:[]LabelSelectorRequirement"},
    {"meta.v1.LabelSelectorRequirement", "key=1 operator=2 values=3:[]string"},
    {"meta.v1.ManagedFieldsEntry", "manager=1 operation=2 apiVersion=3 time=4:Time fieldsType=6 "
     "fieldsV1=7:FieldsV1 subresource=8"},
    {"meta.v1.ObjectMeta", "name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 "
     "generation=7:int64 creationTimestamp=8:Time deletionTimestamp=9:Time "
     "deletionGracePeriodSeconds=10:*int64 labels=11:map[string] annotations=12:map[string] "
     "ownerReferences=13:[]OwnerReference finalizers=14:[]string "
     "managedFields=17:[]ManagedFieldsEntry"},
    {"meta.v1.OwnerReference", "apiVersion=5 kind=1 name=3 uid=4 controller=6:*bool "
     "blockOwnerDeletion=7:*bool"},
    {"meta.v1.Preconditions", "uid=1:*string resourceVersion=2:*string"},
    {"core.v1.AWSElasticBlockStoreVolumeSource", "volumeID=1 fsType=2 partition=3:int32 "
     "readOnly=4:bool"},
    {"core.v1.Affinity", "nodeAffinity=1:NodeAffinity podAffinity=2:PodAffinity "
     "podAntiAffinity=3:PodAntiAffinity"},
    {"core.v1.AppArmorProfile", "type=1 localhostProfile=2:*string"},
    {"core.v1.AttachedVolume", "name=1 devicePath=2"},
    {"core.v1.AzureDiskVolumeSource", "diskName=1 diskURI=2 cachingMode=3:*string "
     "fsType=4:*string readOnly=5:*bool kind=6:*string"},
    {"core.v1.AzureFileVolumeSource", "secretName=1 shareName=2 readOnly=3:bool"},
    {"core.v1.CSIVolumeSource", "driver=1 readOnly=2:*bool fsType=3:*string "
     "volumeAttributes=4:map[string] nodePublishSecretRef=5:LocalObjectReference"},
    {"core.v1.Capabilities", "add=1:[]string drop=2:[]string"},
    {"core.v1.CephFSVolumeSource", "monitors=1:[]string path=2 user=3 secretFile=4 "
     "secretRef=5:LocalObjectReference readOnly=6:bool"},
    {"core.v1.CinderVolumeSource", "volumeID=1 fsType=2 readOnly=3:bool "
     "secretRef=4:LocalObjectReference"},
    {"core.v1.ClientIPConfig", "timeoutSeconds=1:*int32"},
    {"core.v1.ClusterTrustBundleProjection", "name=1:*string signerName=2:*string "
     "labelSelector=3:meta.v1.LabelSelector optional=5:*bool path=4"},
    {"core.v1.ConfigMap", "metadata=1:meta.v1.ObjectMeta immutable=4:*bool data=2:map[string] "
     "binaryData=3:map[bytes]"},
    {"core.v1.ConfigMapEnvSource", ",inline=1:LocalObjectReference optional=2:*bool"},
    {"core.v1.ConfigMapKeySelector", ",inline=1:LocalObjectReference key=2 optional=3:*bool"},
    {"core.v1.ConfigMapNodeConfigSource", "namespace=1 name=2 uid=3 resourceVersion=4 "
     "kubeletConfigKey=5"},
    {"core.v1.ConfigMapProjection", ",inline=1:LocalObjectReference items=2:[]KeyToPath "
     "optional=4:*bool"},
    {"core.v1.ConfigMapVolumeSource", ",inline=1:LocalObjectReference items=2:[]KeyToPath "
     "defaultMode=3:*int32 optional=4:*bool"},
    {"core.v1.Container", "name=1 image=2 command=3:[]string args=4:[]string workingDir=5 "
     "ports=6:[]ContainerPort envFrom=19:[]EnvFromSource env=7:[]EnvVar "
     "resources=8:ResourceRequirements resizePolicy=23:[]ContainerResizePolicy "
     "restartPolicy=24:*string volumeMounts=9:[]VolumeMount volumeDevices=21:[]VolumeDevice "
     "livenessProbe=10:Probe readinessProbe=11:Probe startupProbe=22:Probe lifecycle=12:Lifecycle "
     "terminationMessagePath=13 terminationMessagePolicy=20 imagePullPolicy=14 "
     "securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool"},
    {"core.v1.ContainerImage", "names=1:[]string sizeBytes=2:int64"},
    {"core.v1.ContainerPort", "name=1 hostPort=2:int32 containerPort=3:int32 protocol=4 hostIP=5"},
    {"core.v1.ContainerResizePolicy", "resourceName=1 restartPolicy=2"},
    {"core.v1.ContainerState", "waiting=1:ContainerStateWaiting running=2:ContainerStateRunning "
     "terminated=3:ContainerStateTerminated"},
    {"core.v1.ContainerStateRunning", "startedAt=1:Time"},
    {"core.v1.ContainerStateTerminated", "exitCode=1:int32 signal=2:int32 reason=3 message=4 "
     "startedAt=5:Time finishedAt=6:Time containerID=7"},
    {"core.v1.ContainerStateWaiting", "reason=1 message=2"},
    {"core.v1.ContainerStatus", "name=1 state=2:ContainerState lastState=3:ContainerState "
     "ready=4:bool restartCount=5:int32 image=6 imageID=7 containerID=8 started=9:*bool "
     "allocatedResources=10:map[Quantity] resources=11:ResourceRequirements "
     "volumeMounts=12:[]VolumeMountStatus user=13:ContainerUser "
     "allocatedResourcesStatus=14:[]ResourceStatus stopSignal=15:*string"},
    {"core.v1.ContainerUser", "linux=1:LinuxContainerUser"},
    {"core.v1.DaemonEndpoint", "Port=1:int32"},
    {"core.v1.DownwardAPIProjection", "items=1:[]DownwardAPIVolumeFile"},
    {"core.v1.DownwardAPIVolumeFile", "path=1 fieldRef=2:ObjectFieldSelector "
     "resourceFieldRef=3:ResourceFieldSelector mode=4:*int32"},
    {"core.v1.DownwardAPIVolumeSource", "items=1:[]DownwardAPIVolumeFile defaultMode=2:*int32"},
    {"core.v1.EmptyDirVolumeSource", "medium=1 sizeLimit=2:Quantity"},
    {"core.v1.EndpointAddress", "ip=1 hostname=3 nodeName=4:*string targetRef=2:ObjectReference"},
    {"core.v1.EndpointPort", "name=1 port=2:int32 protocol=3 appProtocol=4:*string"},
    {"core.v1.EndpointSubset", "addresses=1:[]EndpointAddress "
     "notReadyAddresses=2:[]EndpointAddress ports=3:[]EndpointPort"},
    {"core.v1.Endpoints", "metadata=1:meta.v1.ObjectMeta subsets=2:[]EndpointSubset"},
    {"core.v1.EnvFromSource", "prefix=1 configMapRef=2:ConfigMapEnvSource "
     "secretRef=3:SecretEnvSource"},
    {"core.v1.EnvVar", "name=1 value=2 valueFrom=3:EnvVarSource"},
    {"core.v1.EnvVarSource", "fieldRef=1:ObjectFieldSelector "
     "resourceFieldRef=2:ResourceFieldSelector configMapKeyRef=3:ConfigMapKeySelector "
     "secretKeyRef=4:SecretKeySelector"},
    {"core.v1.EphemeralContainer", ",inline=1:EphemeralContainerCommon targetContainerName=2"},
    {"core.v1.EphemeralContainerCommon", "name=1 image=2 command=3:[]string args=4:[]string "
     "workingDir=5 ports=6:[]ContainerPort envFrom=19:[]EnvFromSource env=7:[]EnvVar "
     "resources=8:ResourceRequirements resizePolicy=23:[]ContainerResizePolicy "
     "restartPolicy=24:*string volumeMounts=9:[]VolumeMount volumeDevices=21:[]VolumeDevice "
     "livenessProbe=10:Probe readinessProbe=11:Probe startupProbe=22:Probe lifecycle=12:Lifecycle "
     "terminationMessagePath=13 terminationMessagePolicy=20 imagePullPolicy=14 "
     "securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool"},
    {"core.v1.EphemeralVolumeSource", "volumeClaimTemplate=1:PersistentVolumeClaimTemplate"},
    {"core.v1.Event", "metadata=1:meta.v1.ObjectMeta involvedObject=2:ObjectReference reason=3 "
     "message=4 source=5:EventSource firstTimestamp=6:Time lastTimestamp=7:Time count=8:int32 "
     "type=9 eventTime=10:MicroTime series=11:EventSeries action=12 related=13:ObjectReference "
     "reportingComponent=14 reportingInstance=15"},
    {"core.v1.EventSeries", "count=1:int32 lastObservedTime=2:MicroTime"},
    {"core.v1.EventSource", "component=1 host=2"},
    {"core.v1.ExecAction", "command=1:[]string"},
    {"core.v1.FCVolumeSource", "targetWWNs=1:[]string lun=2:*int32 fsType=3 readOnly=4:bool "
     "wwids=5:[]string"},
    {"core.v1.FlexVolumeSource", "driver=1 fsType=2 secretRef=3:LocalObjectReference "
     "readOnly=4:bool options=5:map[string]"},
    {"core.v1.FlockerVolumeSource", "datasetName=1 datasetUUID=2"},
    {"core.v1.GCEPersistentDiskVolumeSource", "pdName=1 fsType=2 partition=3:int32 "
     "readOnly=4:bool"},
    {"core.v1.GRPCAction", "port=1:int32 service=2:*string"},
    {"core.v1.GitRepoVolumeSource", "repository=1 revision=2 directory=3"},
    {"core.v1.GlusterfsVolumeSource", "endpoints=1 path=2 readOnly=3:bool"},
    {"core.v1.HTTPGetAction", "path=1 port=2:IntOrString host=3 scheme=4 "
     "httpHeaders=5:[]HTTPHeader"},
    {"core.v1.HTTPHeader", "name=1 value=2"},
    {"core.v1.HostAlias", "ip=1 hostnames=2:[]string"},
    {"core.v1.HostIP", "ip=1"},
    {"core.v1.HostPathVolumeSource", "path=1 type=2:*string"},
    {"core.v1.ISCSIVolumeSource", "targetPortal=1 iqn=2 lun=3:int32 iscsiInterface=4 fsType=5 "
     "readOnly=6:bool portals=7:[]string chapAuthDiscovery=8:bool chapAuthSession=11:bool "
     "secretRef=10:LocalObjectReference initiatorName=12:*string"},
    {"core.v1.ImageVolumeSource", "reference=1 pullPolicy=2"},
    {"core.v1.KeyToPath", "key=1 path=2 mode=3:*int32"},
    {"core.v1.Lifecycle", "postStart=1:LifecycleHandler preStop=2:LifecycleHandler "
     "stopSignal=3:*string"},
    {"core.v1.LifecycleHandler", "exec=1:ExecAction httpGet=2:HTTPGetAction "
     "tcpSocket=3:TCPSocketAction sleep=4:SleepAction"},
    {"core.v1.LinuxContainerUser", "uid=1:int64 gid=2:int64 supplementalGroups=3:[]int64"},
    {"core.v1.LoadBalancerIngress", "ip=1 hostname=2 ipMode=3:*string ports=4:[]PortStatus"},
    {"core.v1.LoadBalancerStatus", "ingress=1:[]LoadBalancerIngress"},
    {"core.v1.LocalObjectReference", "name=1"},
    {"core.v1.ModifyVolumeStatus", "targetVolumeAttributesClassName=1 status=2"},
    {"core.v1.NFSVolumeSource", "server=1 path=2 readOnly=3:bool"},
    {"core.v1.Namespace", "metadata=1:meta.v1.ObjectMeta spec=2:NamespaceSpec "
     "status=3:NamespaceStatus"},
    {"core.v1.NamespaceCondition", "type=1 status=2 lastTransitionTime=4:Time reason=5 message=6"},
    {"core.v1.NamespaceSpec", "finalizers=1:[]string"},
    {"core.v1.NamespaceStatus", "phase=1 conditions=2:[]NamespaceCondition"},
    {"core.v1.Node", "metadata=1:meta.v1.ObjectMeta spec=2:NodeSpec status=3:NodeStatus"},
    {"core.v1.NodeAddress", "type=1 address=2"},
    {"core.v1.NodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector "
     "preferredDuringSchedulingIgnoredDuringExecution=2:[]PreferredSchedulingTerm"},
    {"core.v1.NodeCondition", "type=1 status=2 lastHeartbeatTime=3:Time lastTransitionTime=4:Time "
     "reason=5 message=6"},
    {"core.v1.NodeConfigSource", "configMap=2:ConfigMapNodeConfigSource"},
    {"core.v1.NodeConfigStatus", "assigned=1:NodeConfigSource active=2:NodeConfigSource "
     "lastKnownGood=3:NodeConfigSource error=4"},
    {"core.v1.NodeDaemonEndpoints", "kubeletEndpoint=1:DaemonEndpoint"},
    {"core.v1.NodeFeatures", "supplementalGroupsPolicy=1:*bool"},
    {"core.v1.NodeRuntimeHandler", "name=1 features=2:NodeRuntimeHandlerFeatures"},
    {"core.v1.NodeRuntimeHandlerFeatures", "recursiveReadOnlyMounts=1:*bool "
     "userNamespaces=2:*bool"},
    {"core.v1.NodeSelector", "nodeSelectorTerms=1:[]NodeSelectorTerm"},
    {"core.v1.NodeSelectorRequirement", "key=1 operator=2 values=3:[]string"},
    {"core.v1.NodeSelectorTerm", "matchExpressions=1:[]NodeSelectorRequirement "
     "matchFields=2:[]NodeSelectorRequirement"},
    {"core.v1.NodeSpec", "podCIDR=1 podCIDRs=7:[]string providerID=3 unschedulable=4:bool "
     "taints=5:[]Taint configSource=6:NodeConfigSource externalID=2"},
    {"core.v1.NodeStatus", "capacity=1:map[Quantity] allocatable=2:map[Quantity] phase=3 "
     "conditions=4:[]NodeCondition addresses=5:[]NodeAddress "
     "daemonEndpoints=6:NodeDaemonEndpoints nodeInfo=7:NodeSystemInfo images=8:[]ContainerImage "
     "volumesInUse=9:[]string volumesAttached=10:[]AttachedVolume config=11:NodeConfigStatus "
     "runtimeHandlers=12:[]NodeRuntimeHandler features=13:NodeFeatures"},
    {"core.v1.NodeSwapStatus", "capacity=1:*int64"},
    {"core.v1.NodeSystemInfo", "machineID=1 systemUUID=2 bootID=3 kernelVersion=4 osImage=5 "
     "containerRuntimeVersion=6 kubeletVersion=7 kubeProxyVersion=8 operatingSystem=9 "
     "architecture=10 swap=11:NodeSwapStatus"},
    {"core.v1.ObjectFieldSelector", "apiVersion=1 fieldPath=2"},
    {"core.v1.ObjectReference", "kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 "
     "fieldPath=7"},
    {"core.v1.PersistentVolumeClaim", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:PersistentVolumeClaimSpec status=3:PersistentVolumeClaimStatus"},
    {"core.v1.PersistentVolumeClaimCondition", "type=1 status=2 lastProbeTime=3:Time "
     "lastTransitionTime=4:Time reason=5 message=6"},
    {"core.v1.PersistentVolumeClaimSpec", "accessModes=1:[]string "
     "selector=4:meta.v1.LabelSelector resources=2:VolumeResourceRequirements volumeName=3 "
     "storageClassName=5:*string volumeMode=6:*string dataSource=7:TypedLocalObjectReference "
     "dataSourceRef=8:TypedObjectReference volumeAttributesClassName=9:*string"},
    {"core.v1.PersistentVolumeClaimStatus", "phase=1 accessModes=2:[]string "
     "capacity=3:map[Quantity] conditions=4:[]PersistentVolumeClaimCondition "
     "allocatedResources=5:map[Quantity] allocatedResourceStatuses=7:map[string] "
     "currentVolumeAttributesClassName=8:*string modifyVolumeStatus=9:ModifyVolumeStatus"},
    {"core.v1.PersistentVolumeClaimTemplate", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:PersistentVolumeClaimSpec"},
    {"core.v1.PersistentVolumeClaimVolumeSource", "claimName=1 readOnly=2:bool"},
    {"core.v1.PhotonPersistentDiskVolumeSource", "pdID=1 fsType=2"},
    {"core.v1.Pod", "metadata=1:meta.v1.ObjectMeta spec=2:PodSpec status=3:PodStatus"},
    {"core.v1.PodAffinity", "requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm "
     "preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm"},
    {"core.v1.PodAffinityTerm", "labelSelector=1:meta.v1.LabelSelector namespaces=2:[]string "
     "topologyKey=3 namespaceSelector=4:meta.v1.LabelSelector matchLabelKeys=5:[]string "
     "mismatchLabelKeys=6:[]string"},
    {"core.v1.PodAntiAffinity",
     "requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm "
     "preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm"},
    {"core.v1.PodCondition", "type=1 observedGeneration=7:int64 status=2 lastProbeTime=3:Time "
     "lastTransitionTime=4:Time reason=5 message=6"},
    {"core.v1.PodDNSConfig", "nameservers=1:[]string searches=2:[]string "
     "options=3:[]PodDNSConfigOption"},
    {"core.v1.PodDNSConfigOption", "name=1 value=2:*string"},
    {"core.v1.PodIP", "ip=1"},
    {"core.v1.PodOS", "name=1"},
    {"core.v1.PodReadinessGate", "conditionType=1"},
    {"core.v1.PodResourceClaim", "name=1 resourceClaimName=3:*string "
     "resourceClaimTemplateName=4:*string"},
    {"core.v1.PodResourceClaimStatus", "name=1 resourceClaimName=2:*string"},
    {"core.v1.PodSchedulingGate", "name=1"},
    {"core.v1.PodSecurityContext", "seLinuxOptions=1:SELinuxOptions "
     "windowsOptions=8:WindowsSecurityContextOptions runAsUser=2:*int64 runAsGroup=6:*int64 "
     "runAsNonRoot=3:*bool supplementalGroups=4:[]int64 supplementalGroupsPolicy=12:*string "
     "fsGroup=5:*int64 sysctls=7:[]Sysctl fsGroupChangePolicy=9:*string "
     "seccompProfile=10:SeccompProfile appArmorProfile=11:AppArmorProfile "
     "seLinuxChangePolicy=13:*string"},
    {"core.v1.PodSpec", "volumes=1:[]Volume initContainers=20:[]Container "
     "containers=2:[]Container ephemeralContainers=34:[]EphemeralContainer restartPolicy=3 "
     "terminationGracePeriodSeconds=4:*int64 activeDeadlineSeconds=5:*int64 dnsPolicy=6 "
     "nodeSelector=7:map[string] serviceAccountName=8 serviceAccount=9 "
     "automountServiceAccountToken=21:*bool nodeName=10 hostNetwork=11:bool hostPID=12:bool "
     "hostIPC=13:bool shareProcessNamespace=27:*bool securityContext=14:PodSecurityContext "
     "imagePullSecrets=15:[]LocalObjectReference hostname=16 subdomain=17 affinity=18:Affinity "
     "schedulerName=19 tolerations=22:[]Toleration hostAliases=23:[]HostAlias "
     "priorityClassName=24 priority=25:*int32 dnsConfig=26:PodDNSConfig "
     "readinessGates=28:[]PodReadinessGate runtimeClassName=29:*string "
     "enableServiceLinks=30:*bool preemptionPolicy=31:*string overhead=32:map[Quantity] "
     "topologySpreadConstraints=33:[]TopologySpreadConstraint setHostnameAsFQDN=35:*bool "
     "os=36:PodOS hostUsers=37:*bool schedulingGates=38:[]PodSchedulingGate "
     "resourceClaims=39:[]PodResourceClaim resources=40:ResourceRequirements"},
    {"core.v1.PodStatus", "observedGeneration=17:int64 phase=1 conditions=2:[]PodCondition "
     "message=3 reason=4 nominatedNodeName=11 hostIP=5 hostIPs=16:[]HostIP podIP=6 "
     "podIPs=12:[]PodIP startTime=7:Time initContainerStatuses=10:[]ContainerStatus "
     "containerStatuses=8:[]ContainerStatus qosClass=9 "
     "ephemeralContainerStatuses=13:[]ContainerStatus resize=14 "
     "resourceClaimStatuses=15:[]PodResourceClaimStatus"},
    {"core.v1.PodTemplateSpec", "metadata=1:meta.v1.ObjectMeta spec=2:PodSpec"},
    {"core.v1.PortStatus", "port=1:int32 protocol=2 error=3:*string"},
    {"core.v1.PortworxVolumeSource", "volumeID=1 fsType=2 readOnly=3:bool"},
    {"core.v1.PreferredSchedulingTerm", "weight=1:int32 preference=2:NodeSelectorTerm"},
    {"core.v1.Probe", ",inline=1:ProbeHandler initialDelaySeconds=2:int32 timeoutSeconds=3:int32 "
     "periodSeconds=4:int32 successThreshold=5:int32 failureThreshold=6:int32 "
     "terminationGracePeriodSeconds=7:*int64"},
    {"core.v1.ProbeHandler", "exec=1:ExecAction httpGet=2:HTTPGetAction "
     "tcpSocket=3:TCPSocketAction grpc=4:GRPCAction"},
    {"core.v1.ProjectedVolumeSource", "sources=1:[]VolumeProjection defaultMode=2:*int32"},
    {"core.v1.QuobyteVolumeSource", "registry=1 volume=2 readOnly=3:bool user=4 group=5 tenant=6"},
    {"core.v1.RBDVolumeSource", "monitors=1:[]string image=2 fsType=3 pool=4 user=5 keyring=6 "
     "secretRef=7:LocalObjectReference readOnly=8:bool"},
    {"core.v1.ResourceClaim", "name=1 request=2"},
    {"core.v1.ResourceFieldSelector", "containerName=1 resource=2 divisor=3:Quantity"},
    {"core.v1.ResourceHealth", "resourceID=1 health=2"},
    {"core.v1.ResourceRequirements", "limits=1:map[Quantity] requests=2:map[Quantity] "
     "claims=3:[]ResourceClaim"},
    {"core.v1.ResourceStatus", "name=1 resources=2:[]ResourceHealth"},
    {"core.v1.SELinuxOptions", "user=1 role=2 type=3 level=4"},
    {"core.v1.ScaleIOVolumeSource", "gateway=1 system=2 secretRef=3:LocalObjectReference "
     "sslEnabled=4:bool protectionDomain=5 storagePool=6 storageMode=7 volumeName=8 fsType=9 "
     "readOnly=10:bool"},
    {"core.v1.SeccompProfile", "type=1 localhostProfile=2:*string"},
    {"core.v1.Secret", "metadata=1:meta.v1.ObjectMeta immutable=5:*bool data=2:map[bytes] "
     "stringData=4:map[string] type=3"},
    {"core.v1.SecretEnvSource", ",inline=1:LocalObjectReference optional=2:*bool"},
    {"core.v1.SecretKeySelector", ",inline=1:LocalObjectReference key=2 optional=3:*bool"},
    {"core.v1.SecretProjection", ",inline=1:LocalObjectReference items=2:[]KeyToPath "
     "optional=4:*bool"},
    {"core.v1.SecretVolumeSource", "secretName=1 items=2:[]KeyToPath defaultMode=3:*int32 "
     "optional=4:*bool"},
    {"core.v1.SecurityContext", "capabilities=1:Capabilities privileged=2:*bool "
     "seLinuxOptions=3:SELinuxOptions windowsOptions=10:WindowsSecurityContextOptions "
     "runAsUser=4:*int64 runAsGroup=8:*int64 runAsNonRoot=5:*bool readOnlyRootFilesystem=6:*bool "
     "allowPrivilegeEscalation=7:*bool procMount=9:*string seccompProfile=11:SeccompProfile "
     "appArmorProfile=12:AppArmorProfile"},
    {"core.v1.Service", "metadata=1:meta.v1.ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus"},
    {"core.v1.ServiceAccount", "metadata=1:meta.v1.ObjectMeta secrets=2:[]ObjectReference "
     "imagePullSecrets=3:[]LocalObjectReference automountServiceAccountToken=4:*bool"},
    {"core.v1.ServiceAccountTokenProjection", "audience=1 expirationSeconds=2:*int64 path=3"},
    {"core.v1.ServicePort", "name=1 protocol=2 appProtocol=6:*string port=3:int32 "
     "targetPort=4:IntOrString nodePort=5:int32"},
    {"core.v1.ServiceSpec", "ports=1:[]ServicePort selector=2:map[string] clusterIP=3 "
     "clusterIPs=18:[]string type=4 externalIPs=5:[]string sessionAffinity=7 loadBalancerIP=8 "
     "loadBalancerSourceRanges=9:[]string externalName=10 externalTrafficPolicy=11 "
     "healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool "
     "sessionAffinityConfig=14:SessionAffinityConfig ipFamilies=19:[]string "
     "ipFamilyPolicy=17:*string allocateLoadBalancerNodePorts=20:*bool "
     "loadBalancerClass=21:*string internalTrafficPolicy=22:*string "
     "trafficDistribution=23:*string"},
    {"core.v1.ServiceStatus", "loadBalancer=1:LoadBalancerStatus conditions=2:[]meta.v1.Condition"},
    {"core.v1.SessionAffinityConfig", "clientIP=1:ClientIPConfig"},
    {"core.v1.SleepAction", "seconds=1:int64"},
    {"core.v1.StorageOSVolumeSource", "volumeName=1 volumeNamespace=2 fsType=3 readOnly=4:bool "
     "secretRef=5:LocalObjectReference"},
    {"core.v1.Sysctl", "name=1 value=2"},
    {"core.v1.TCPSocketAction", "port=1:IntOrString host=2"},
    {"core.v1.Taint", "key=1 value=2 effect=3 timeAdded=4:Time"},
    {"core.v1.Toleration", "key=1 operator=2 value=3 effect=4 tolerationSeconds=5:*int64"},
    {"core.v1.TopologySpreadConstraint", "maxSkew=1:int32 topologyKey=2 whenUnsatisfiable=3 "
     "labelSelector=4:meta.v1.LabelSelector minDomains=5:*int32 nodeAffinityPolicy=6:*string "
     "nodeTaintsPolicy=7:*string matchLabelKeys=8:[]string"},
    {"core.v1.TypedLocalObjectReference", "apiGroup=1:*string kind=2 name=3"},
    {"core.v1.TypedObjectReference", "apiGroup=1:*string kind=2 name=3 namespace=4:*string"},
    {"core.v1.Volume", "name=1 ,inline=2:VolumeSource"},
    {"core.v1.VolumeDevice", "name=1 devicePath=2"},
    {"core.v1.VolumeMount", "name=1 readOnly=2:bool recursiveReadOnly=7:*string mountPath=3 "
     "subPath=4 mountPropagation=5:*string subPathExpr=6"},
    {"core.v1.VolumeMountStatus", "name=1 mountPath=2 readOnly=3:bool recursiveReadOnly=4:*string"},
    {"core.v1.VolumeProjection", "secret=1:SecretProjection downwardAPI=2:DownwardAPIProjection "
     "configMap=3:ConfigMapProjection serviceAccountToken=4:ServiceAccountTokenProjection "
     "clusterTrustBundle=5:ClusterTrustBundleProjection"},
    {"core.v1.VolumeResourceRequirements", "limits=1:map[Quantity] requests=2:map[Quantity]"},
    {"core.v1.VolumeSource", "hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource "
     "gcePersistentDisk=3:GCEPersistentDiskVolumeSource "
     "awsElasticBlockStore=4:AWSElasticBlockStoreVolumeSource gitRepo=5:GitRepoVolumeSource "
     "secret=6:SecretVolumeSource nfs=7:NFSVolumeSource iscsi=8:ISCSIVolumeSource "
     "glusterfs=9:GlusterfsVolumeSource "
     "persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource rbd=11:RBDVolumeSource "
     "flexVolume=12:FlexVolumeSource cinder=13:CinderVolumeSource cephfs=14:CephFSVolumeSource "
     "flocker=15:FlockerVolumeSource downwardAPI=16:DownwardAPIVolumeSource fc=17:FCVolumeSource "
     "azureFile=18:AzureFileVolumeSource configMap=19:ConfigMapVolumeSource "
     "vsphereVolume=20:VsphereVirtualDiskVolumeSource quobyte=21:QuobyteVolumeSource "
     "azureDisk=22:AzureDiskVolumeSource photonPersistentDisk=23:PhotonPersistentDiskVolumeSource "
     "projected=26:ProjectedVolumeSource portworxVolume=24:PortworxVolumeSource "
     "scaleIO=25:ScaleIOVolumeSource storageos=27:StorageOSVolumeSource csi=28:CSIVolumeSource "
     "ephemeral=29:EphemeralVolumeSource image=30:ImageVolumeSource"},
    {"core.v1.VsphereVirtualDiskVolumeSource", "volumePath=1 fsType=2 storagePolicyName=3 "
     "storagePolicyID=4"},
    {"core.v1.WeightedPodAffinityTerm", "weight=1:int32 podAffinityTerm=2:PodAffinityTerm"},
    {"core.v1.WindowsSecurityContextOptions", "gmsaCredentialSpecName=1:*string "
     "gmsaCredentialSpec=2:*string runAsUserName=3:*string hostProcess=4:*bool"},
    {"apps.v1.DaemonSet", "metadata=1:meta.v1.ObjectMeta spec=2:DaemonSetSpec "
     "status=3:DaemonSetStatus"},
    {"apps.v1.DaemonSetCondition", "type=1 status=2 lastTransitionTime=3:Time reason=4 message=5"},
    {"apps.v1.DaemonSetSpec", "selector=1:meta.v1.LabelSelector "
     "template=2:core.v1.PodTemplateSpec updateStrategy=3:DaemonSetUpdateStrategy "
     "minReadySeconds=4:int32 revisionHistoryLimit=6:*int32"},
    {"apps.v1.DaemonSetStatus", "currentNumberScheduled=1:int32 numberMisscheduled=2:int32 "
     "desiredNumberScheduled=3:int32 numberReady=4:int32 observedGeneration=5:int64 "
     "updatedNumberScheduled=6:int32 numberAvailable=7:int32 numberUnavailable=8:int32 "
     "collisionCount=9:*int32 conditions=10:[]DaemonSetCondition"},
    {"apps.v1.DaemonSetUpdateStrategy", "type=1 rollingUpdate=2:RollingUpdateDaemonSet"},
    {"apps.v1.Deployment", "metadata=1:meta.v1.ObjectMeta spec=2:DeploymentSpec "
     "status=3:DeploymentStatus"},
    {"apps.v1.DeploymentCondition", "type=1 status=2 lastUpdateTime=6:Time "
     "lastTransitionTime=7:Time reason=4 message=5"},
    {"apps.v1.DeploymentSpec", "replicas=1:*int32 selector=2:meta.v1.LabelSelector "
     "template=3:core.v1.PodTemplateSpec strategy=4:DeploymentStrategy minReadySeconds=5:int32 "
     "revisionHistoryLimit=6:*int32 paused=7:bool progressDeadlineSeconds=9:*int32"},
    {"apps.v1.DeploymentStatus", "observedGeneration=1:int64 replicas=2:int32 "
     "updatedReplicas=3:int32 readyReplicas=7:int32 availableReplicas=4:int32 "
     "unavailableReplicas=5:int32 terminatingReplicas=9:*int32 conditions=6:[]DeploymentCondition "
     "collisionCount=8:*int32"},
    {"apps.v1.DeploymentStrategy", "type=1 rollingUpdate=2:RollingUpdateDeployment"},
    {"apps.v1.ReplicaSet", "metadata=1:meta.v1.ObjectMeta spec=2:ReplicaSetSpec "
     "status=3:ReplicaSetStatus"},
    {"apps.v1.ReplicaSetCondition", "type=1 status=2 lastTransitionTime=3:Time reason=4 message=5"},
    {"apps.v1.ReplicaSetSpec", "replicas=1:*int32 minReadySeconds=4:int32 "
     "selector=2:meta.v1.LabelSelector template=3:core.v1.PodTemplateSpec"},
    {"apps.v1.ReplicaSetStatus", "replicas=1:int32 fullyLabeledReplicas=2:int32 "
     "readyReplicas=4:int32 availableReplicas=5:int32 terminatingReplicas=7:*int32 "
     "observedGeneration=3:int64 conditions=6:[]ReplicaSetCondition"},
    {"apps.v1.RollingUpdateDaemonSet", "maxUnavailable=1:IntOrString maxSurge=2:IntOrString"},
    {"apps.v1.RollingUpdateDeployment", "maxUnavailable=1:IntOrString maxSurge=2:IntOrString"},
    {"apps.v1.RollingUpdateStatefulSetStrategy", "partition=1:*int32 maxUnavailable=2:IntOrString"},
    {"apps.v1.StatefulSet", "metadata=1:meta.v1.ObjectMeta spec=2:StatefulSetSpec "
     "status=3:StatefulSetStatus"},
    {"apps.v1.StatefulSetCondition", "type=1 status=2 lastTransitionTime=3:Time reason=4 "
     "message=5"},
    {"apps.v1.StatefulSetOrdinals", "start=1:int32"},
    {"apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy", "whenDeleted=1 whenScaled=2"},
    {"apps.v1.StatefulSetSpec", "replicas=1:*int32 selector=2:meta.v1.LabelSelector "
     "template=3:core.v1.PodTemplateSpec volumeClaimTemplates=4:[]core.v1.PersistentVolumeClaim "
     "serviceName=5 podManagementPolicy=6 updateStrategy=7:StatefulSetUpdateStrategy "
     "revisionHistoryLimit=8:*int32 minReadySeconds=9:int32 "
     "persistentVolumeClaimRetentionPolicy=10:StatefulSetPersistentVolumeClaimRetentionPolicy "
     "ordinals=11:StatefulSetOrdinals"},
    {"apps.v1.StatefulSetStatus", "observedGeneration=1:int64 replicas=2:int32 "
     "readyReplicas=3:int32 currentReplicas=4:int32 updatedReplicas=5:int32 currentRevision=6 "
     "updateRevision=7 collisionCount=9:*int32 conditions=10:[]StatefulSetCondition "
     "availableReplicas=11:int32"},
    {"apps.v1.StatefulSetUpdateStrategy", "type=1 "
     "rollingUpdate=2:RollingUpdateStatefulSetStrategy"},
    {"batch.v1.CronJob", "metadata=1:meta.v1.ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus"},
    {"batch.v1.CronJobSpec", "schedule=1 timeZone=8:*string startingDeadlineSeconds=2:*int64 "
     "concurrencyPolicy=3 suspend=4:*bool jobTemplate=5:JobTemplateSpec "
     "successfulJobsHistoryLimit=6:*int32 failedJobsHistoryLimit=7:*int32"},
    {"batch.v1.CronJobStatus", "active=1:[]core.v1.ObjectReference lastScheduleTime=4:Time "
     "lastSuccessfulTime=5:Time"},
    {"batch.v1.Job", "metadata=1:meta.v1.ObjectMeta spec=2:JobSpec status=3:JobStatus"},
    {"batch.v1.JobCondition", "type=1 status=2 lastProbeTime=3:Time lastTransitionTime=4:Time "
     "reason=5 message=6"},
    {"batch.v1.JobSpec", "parallelism=1:*int32 completions=2:*int32 "
     "activeDeadlineSeconds=3:*int64 podFailurePolicy=11:PodFailurePolicy "
     "successPolicy=16:SuccessPolicy backoffLimit=7:*int32 backoffLimitPerIndex=12:*int32 "
     "maxFailedIndexes=13:*int32 selector=4:meta.v1.LabelSelector manualSelector=5:*bool "
     "template=6:core.v1.PodTemplateSpec ttlSecondsAfterFinished=8:*int32 "
     "completionMode=9:*string suspend=10:*bool podReplacementPolicy=14:*string "
     "managedBy=15:*string"},
    {"batch.v1.JobStatus", "conditions=1:[]JobCondition startTime=2:Time completionTime=3:Time "
     "active=4:int32 succeeded=5:int32 failed=6:int32 terminating=11:*int32 completedIndexes=7 "
     "failedIndexes=10:*string uncountedTerminatedPods=8:UncountedTerminatedPods ready=9:*int32"},
    {"batch.v1.JobTemplateSpec", "metadata=1:meta.v1.ObjectMeta spec=2:JobSpec"},
    {"batch.v1.PodFailurePolicy", "rules=1:[]PodFailurePolicyRule"},
    {"batch.v1.PodFailurePolicyOnExitCodesRequirement", "containerName=1:*string operator=2 "
     "values=3:[]int32"},
    {"batch.v1.PodFailurePolicyOnPodConditionsPattern", "type=1 status=2"},
    {"batch.v1.PodFailurePolicyRule", "action=1 "
     "onExitCodes=2:PodFailurePolicyOnExitCodesRequirement "
     "onPodConditions=3:[]PodFailurePolicyOnPodConditionsPattern"},
    {"batch.v1.SuccessPolicy", "rules=1:[]SuccessPolicyRule"},
    {"batch.v1.SuccessPolicyRule", "succeededIndexes=1:*string succeededCount=2:*int32"},
    {"batch.v1.UncountedTerminatedPods", "succeeded=1:[]string failed=2:[]string"},
    {"networking.v1.HTTPIngressPath", "path=1 pathType=3:*string backend=2:IngressBackend"},
    {"networking.v1.HTTPIngressRuleValue", "paths=1:[]HTTPIngressPath"},
    {"networking.v1.Ingress", "metadata=1:meta.v1.ObjectMeta spec=2:IngressSpec "
     "status=3:IngressStatus"},
    {"networking.v1.IngressBackend", "service=4:IngressServiceBackend "
     "resource=3:core.v1.TypedLocalObjectReference"},
    {"networking.v1.IngressClass", "metadata=1:meta.v1.ObjectMeta spec=2:IngressClassSpec"},
    {"networking.v1.IngressClassParametersReference", "apiGroup=1:*string kind=2 name=3 "
     "scope=4:*string namespace=5:*string"},
    {"networking.v1.IngressClassSpec", "controller=1 parameters=2:IngressClassParametersReference"},
    {"networking.v1.IngressLoadBalancerIngress", "ip=1 hostname=2 ports=4:[]IngressPortStatus"},
    {"networking.v1.IngressLoadBalancerStatus", "ingress=1:[]IngressLoadBalancerIngress"},
    {"networking.v1.IngressPortStatus", "port=1:int32 protocol=2 error=3:*string"},
    {"networking.v1.IngressRule", "host=1 ,inline=2:IngressRuleValue"},
    {"networking.v1.IngressRuleValue", "http=1:HTTPIngressRuleValue"},
    {"networking.v1.IngressServiceBackend", "name=1 port=2:ServiceBackendPort"},
    {"networking.v1.IngressSpec", "ingressClassName=4:*string defaultBackend=1:IngressBackend "
     "tls=2:[]IngressTLS rules=3:[]IngressRule"},
    {"networking.v1.IngressStatus", "loadBalancer=1:IngressLoadBalancerStatus"},
    {"networking.v1.IngressTLS", "hosts=1:[]string secretName=2"},
    {"networking.v1.ServiceBackendPort", "name=1 number=2:int32"},
    {"coordination.v1.Lease", "metadata=1:meta.v1.ObjectMeta spec=2:LeaseSpec"},
    {"coordination.v1.LeaseSpec", "holderIdentity=1:*string leaseDurationSeconds=2:*int32 "
     "acquireTime=3:MicroTime renewTime=4:MicroTime leaseTransitions=5:*int32 strategy=6:*string "
     "preferredHolder=7:*string"},
    {"discovery.v1.Endpoint", "addresses=1:[]string conditions=2:EndpointConditions "
     "hostname=3:*string targetRef=4:core.v1.ObjectReference deprecatedTopology=5:map[string] "
     "nodeName=6:*string zone=7:*string hints=8:EndpointHints"},
    {"discovery.v1.EndpointConditions", "ready=1:*bool serving=2:*bool terminating=3:*bool"},
    {"discovery.v1.EndpointHints", "forZones=1:[]ForZone forNodes=2:[]ForNode"},
    {"discovery.v1.EndpointPort", "name=1:*string protocol=2:*string port=3:*int32 "
     "appProtocol=4:*string"},
    {"discovery.v1.EndpointSlice", "metadata=1:meta.v1.ObjectMeta addressType=4 "
     "endpoints=2:[]Endpoint ports=3:[]EndpointPort"},
    {"discovery.v1.ForNode", "name=1"},
    {"discovery.v1.ForZone", "name=1"},
    {"policy.v1.Eviction", "metadata=1:meta.v1.ObjectMeta deleteOptions=2:meta.v1.DeleteOptions"},
    {"rbac.v1.AggregationRule", "clusterRoleSelectors=1:[]meta.v1.LabelSelector"},
    {"rbac.v1.ClusterRole", "metadata=1:meta.v1.ObjectMeta rules=2:[]PolicyRule "
     "aggregationRule=3:AggregationRule"},
    {"rbac.v1.ClusterRoleBinding", "metadata=1:meta.v1.ObjectMeta subjects=2:[]Subject "
     "roleRef=3:RoleRef"},
    {"rbac.v1.PolicyRule", "verbs=1:[]string apiGroups=2:[]string resources=3:[]string "
     "resourceNames=4:[]string nonResourceURLs=5:[]string"},
    {"rbac.v1.Role", "metadata=1:meta.v1.ObjectMeta rules=2:[]PolicyRule"},
    {"rbac.v1.RoleBinding", "metadata=1:meta.v1.ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef"},
    {"rbac.v1.RoleRef", "apiGroup=1 kind=2 name=3"},
    {"rbac.v1.Subject", "kind=1 apiGroup=2 name=3 namespace=4"},
    // UserInfo.extra (4) is left out for the same reason as SubjectAccessReviewSpec.extra
    // below: clients send these reviews with an empty status.
    {"authentication.v1.BoundObjectReference", "kind=1 apiVersion=2 name=3 uid=4"},
    {"authentication.v1.SelfSubjectReview", "metadata=1:meta.v1.ObjectMeta "
     "status=2:SelfSubjectReviewStatus"},
    {"authentication.v1.SelfSubjectReviewStatus", "userInfo=1:UserInfo"},
    {"authentication.v1.TokenRequest", "metadata=1:meta.v1.ObjectMeta spec=2:TokenRequestSpec "
     "status=3:TokenRequestStatus"},
    {"authentication.v1.TokenRequestSpec", "audiences=1:[]string expirationSeconds=4:*int64 "
     "boundObjectRef=3:BoundObjectReference"},
    {"authentication.v1.TokenRequestStatus", "token=1 expirationTimestamp=2:Time"},
    {"authentication.v1.TokenReview", "metadata=1:meta.v1.ObjectMeta spec=2:TokenReviewSpec "
     "status=3:TokenReviewStatus"},
    {"authentication.v1.TokenReviewSpec", "token=1 audiences=2:[]string"},
    {"authentication.v1.TokenReviewStatus", "authenticated=1:bool user=2:UserInfo "
     "audiences=4:[]string error=3"},
    {"authentication.v1.UserInfo", "username=1 uid=2 groups=3:[]string"},
    // SubjectAccessReviewSpec.extra (5) is left out: its JSON form, an object of string
    // arrays, has no type here, so a body carrying it is UnsupportedMedia.
    {"authorization.v1.FieldSelectorAttributes", "rawSelector=1 "
     "requirements=2:[]FieldSelectorRequirement"},
    {"authorization.v1.FieldSelectorRequirement", "key=1 operator=2 values=3:[]string"},
    {"authorization.v1.LabelSelectorAttributes", "rawSelector=1 "
     "requirements=2:[]meta.v1.LabelSelectorRequirement"},
    {"authorization.v1.LocalSubjectAccessReview", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus"},
    {"authorization.v1.NonResourceAttributes", "path=1 verb=2"},
    {"authorization.v1.NonResourceRule", "verbs=1:[]string nonResourceURLs=2:[]string"},
    {"authorization.v1.ResourceAttributes", "namespace=1 verb=2 group=3 version=4 resource=5 "
     "subresource=6 name=7 fieldSelector=8:FieldSelectorAttributes "
     "labelSelector=9:LabelSelectorAttributes"},
    {"authorization.v1.ResourceRule", "verbs=1:[]string apiGroups=2:[]string "
     "resources=3:[]string resourceNames=4:[]string"},
    {"authorization.v1.SelfSubjectAccessReview", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:SelfSubjectAccessReviewSpec status=3:SubjectAccessReviewStatus"},
    {"authorization.v1.SelfSubjectAccessReviewSpec", "resourceAttributes=1:ResourceAttributes "
     "nonResourceAttributes=2:NonResourceAttributes"},
    {"authorization.v1.SelfSubjectRulesReview", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:SelfSubjectRulesReviewSpec status=3:SubjectRulesReviewStatus"},
    {"authorization.v1.SelfSubjectRulesReviewSpec", "namespace=1"},
    {"authorization.v1.SubjectAccessReview", "metadata=1:meta.v1.ObjectMeta "
     "spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus"},
    {"authorization.v1.SubjectAccessReviewSpec", "resourceAttributes=1:ResourceAttributes "
     "nonResourceAttributes=2:NonResourceAttributes user=3 groups=4:[]string uid=6"},
    // `allowed` and `incomplete` are Go values without omitempty: Go's JSON always prints
    // them, and gogo always encodes them, so they are read as kept-when-present.
    {"authorization.v1.SubjectAccessReviewStatus", "allowed=1:*bool denied=4:bool reason=2 "
     "evaluationError=3"},
    {"authorization.v1.SubjectRulesReviewStatus", "resourceRules=1:[]ResourceRule "
     "nonResourceRules=2:[]NonResourceRule incomplete=3:*bool evaluationError=4"},
};

// The kinds a protobuf body may carry: apiVersion, kind, message.
struct KindSpec {
  std::string_view api_version;
  std::string_view kind;
  std::string_view message;
};

constexpr KindSpec kKinds[] = {
    {"v1", "Pod", "core.v1.Pod"},
    {"v1", "Service", "core.v1.Service"},
    {"v1", "Endpoints", "core.v1.Endpoints"},
    {"v1", "ConfigMap", "core.v1.ConfigMap"},
    {"v1", "Secret", "core.v1.Secret"},
    {"v1", "Event", "core.v1.Event"},
    {"v1", "ServiceAccount", "core.v1.ServiceAccount"},
    {"v1", "Namespace", "core.v1.Namespace"},
    {"v1", "Node", "core.v1.Node"},
    {"v1", "PersistentVolumeClaim", "core.v1.PersistentVolumeClaim"},
    {"apps/v1", "Deployment", "apps.v1.Deployment"},
    {"apps/v1", "ReplicaSet", "apps.v1.ReplicaSet"},
    {"apps/v1", "DaemonSet", "apps.v1.DaemonSet"},
    {"apps/v1", "StatefulSet", "apps.v1.StatefulSet"},
    {"batch/v1", "Job", "batch.v1.Job"},
    {"batch/v1", "CronJob", "batch.v1.CronJob"},
    {"networking.k8s.io/v1", "Ingress", "networking.v1.Ingress"},
    {"networking.k8s.io/v1", "IngressClass", "networking.v1.IngressClass"},
    {"coordination.k8s.io/v1", "Lease", "coordination.v1.Lease"},
    {"discovery.k8s.io/v1", "EndpointSlice", "discovery.v1.EndpointSlice"},
    {"policy/v1", "Eviction", "policy.v1.Eviction"},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", "rbac.v1.ClusterRole"},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "rbac.v1.ClusterRoleBinding"},
    {"rbac.authorization.k8s.io/v1", "Role", "rbac.v1.Role"},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", "rbac.v1.RoleBinding"},
    {"authentication.k8s.io/v1", "SelfSubjectReview", "authentication.v1.SelfSubjectReview"},
    {"authentication.k8s.io/v1", "TokenRequest", "authentication.v1.TokenRequest"},
    {"authentication.k8s.io/v1", "TokenReview", "authentication.v1.TokenReview"},
    {"authorization.k8s.io/v1", "LocalSubjectAccessReview",
     "authorization.v1.LocalSubjectAccessReview"},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview",
     "authorization.v1.SelfSubjectAccessReview"},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview",
     "authorization.v1.SelfSubjectRulesReview"},
    {"authorization.k8s.io/v1", "SubjectAccessReview", "authorization.v1.SubjectAccessReview"},
};

enum class Type {
  kString, kInt32, kInt64, kBool, kBytes,  // wire scalars
  kMessage,                                // a JSON object
  kTime, kMicroTime, kIntOrString, kQuantity, kFieldsV1,  // messages with other JSON forms
};
enum class Label { kSingular, kRepeated, kMap };

struct Message;

struct Field {
  int number = 0;
  std::string json;  // empty: inline
  Type type = Type::kString;
  Label label = Label::kSingular;
  bool pointer = false;
  const Message* message = nullptr;  // the message of every type from kMessage on
};

struct Message {
  std::string name;
  std::map<int, Field> fields;
};

bool IsVarint(Type t) { return t == Type::kInt32 || t == Type::kInt64 || t == Type::kBool; }

class Schema {
 public:
  static const Schema& Get() {
    static const Schema* schema = new Schema();  // never destroyed: used until exit
    return *schema;
  }

  const Message& Envelope() const { return messages_.find("runtime.Unknown")->second; }

  const Message* Kind(std::string_view api_version, std::string_view kind) const {
    for (const KindSpec& k : kKinds) {
      if (k.api_version == api_version && k.kind == kind) {
        return &messages_.find(k.message)->second;
      }
    }
    return nullptr;
  }

 private:
  Schema() {
    for (const MessageSpec& spec : kMessages) messages_[std::string(spec.name)].name = spec.name;
    for (const MessageSpec& spec : kMessages) {
      Message& m = messages_.find(spec.name)->second;
      std::string_view package = spec.name.substr(0, spec.name.rfind('.'));
      std::string_view rest = spec.fields;
      while (!rest.empty()) {
        size_t space = rest.find(' ');
        Field f = ParseField(rest.substr(0, space), package);
        if (!m.fields.emplace(f.number, f).second) Fail(spec.name, "duplicate field number");
        rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
      }
    }
    for (const KindSpec& k : kKinds) {
      if (messages_.find(k.message) == messages_.end()) Fail(k.message, "unknown message");
    }
  }

  // The table is compiled in: an error in it is a programming error.
  [[noreturn]] static void Fail(std::string_view what, std::string_view problem) {
    std::fprintf(stderr, "protobuf schema: %.*s: %.*s\n", static_cast<int>(what.size()),
                 what.data(), static_cast<int>(problem.size()), problem.data());
    std::abort();
  }

  Field ParseField(std::string_view token, std::string_view package) const {
    Field f;
    size_t eq = token.find('=');
    size_t colon = token.find(':');
    if (eq == std::string_view::npos || colon < eq) Fail(token, "want name=number[:type]");
    std::string_view number = token.substr(eq + 1, colon - eq - 1);
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), f.number);
    if (ec != std::errc() || end != number.data() + number.size() || f.number <= 0) {
      Fail(token, "bad field number");
    }
    std::string_view name = token.substr(0, eq);
    if (name != ",inline") f.json = name;
    std::string_view type = colon == std::string_view::npos ? "string" : token.substr(colon + 1);
    if (type.substr(0, 2) == "[]") {
      f.label = Label::kRepeated;
      type.remove_prefix(2);
    } else if (type.substr(0, 4) == "map[" && type.back() == ']') {
      f.label = Label::kMap;
      type = type.substr(4, type.size() - 5);
    } else if (type.substr(0, 1) == "*") {
      f.pointer = true;
      type.remove_prefix(1);
    }
    static constexpr std::pair<std::string_view, Type> kScalars[] = {
        {"string", Type::kString}, {"int32", Type::kInt32}, {"int64", Type::kInt64},
        {"bool", Type::kBool},     {"bytes", Type::kBytes}};
    static constexpr std::tuple<std::string_view, Type, std::string_view> kValues[] = {
        {"Time", Type::kTime, "meta.v1.Time"},
        {"MicroTime", Type::kMicroTime, "meta.v1.MicroTime"},
        {"IntOrString", Type::kIntOrString, "intstr.IntOrString"},
        {"Quantity", Type::kQuantity, "resource.Quantity"},
        {"FieldsV1", Type::kFieldsV1, "meta.v1.FieldsV1"}};
    std::string message;
    f.type = Type::kMessage;
    for (auto [n, t] : kScalars) {
      if (n == type) f.type = t;
    }
    for (auto [n, t, m] : kValues) {
      if (n == type) {
        f.type = t;
        message = m;
      }
    }
    if (f.type == Type::kMessage) {
      message = type.find('.') == std::string_view::npos
                    ? std::string(package) + "." + std::string(type)
                    : std::string(type);
    }
    if (!message.empty()) {
      auto it = messages_.find(message);
      if (it == messages_.end()) Fail(token, "unknown message");
      f.message = &it->second;
    }
    bool scalar = f.message == nullptr;
    if (f.pointer && !scalar) Fail(token, "only scalars are pointers here");
    if (f.json.empty() && (f.type != Type::kMessage || f.label != Label::kSingular)) {
      Fail(token, "only a singular message can be inlined");
    }
    if (f.label == Label::kMap && f.type != Type::kString && f.type != Type::kBytes &&
        f.type != Type::kQuantity) {
      Fail(token, "map values are string, bytes or Quantity");
    }
    return f;
  }

  std::map<std::string, Message, std::less<>> messages_;  // nodes are stable: Field::message
};

// ---------------------------------------------------------------------------------------
// Wire format.

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One occurrence of a field: its number, wire type and value (the varint, or the bytes of
// a length-delimited or fixed-size value).
struct WireField {
  int number = 0;
  int wire_type = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

class WireReader {
 public:
  // `message` names what is read, for errors.
  WireReader(std::string_view data, std::string_view message) : data_(data), message_(message) {}

  bool Done() const { return pos_ == data_.size(); }

  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (Done()) return Malformed("truncated varint");
      auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Malformed("varint longer than 10 bytes");
  }

  Result<WireField> Next() {
    ASSIGN_OR_RETURN(uint64_t key, Varint());
    WireField f;
    f.wire_type = static_cast<int>(key & 7);
    if (key >> 3 == 0 || key >> 3 > 536870911) return Malformed("invalid field number");
    f.number = static_cast<int>(key >> 3);
    switch (f.wire_type) {
      case kVarint: {
        ASSIGN_OR_RETURN(f.varint, Varint());
        return f;
      }
      case kLengthDelimited: {
        ASSIGN_OR_RETURN(uint64_t size, Varint());
        RETURN_IF_ERROR(Take(size, f));
        return f;
      }
      case kFixed64:
        RETURN_IF_ERROR(Take(8, f));
        return f;
      case kFixed32:
        RETURN_IF_ERROR(Take(4, f));
        return f;
      default:
        return Malformed("field " + std::to_string(f.number) + " has unsupported wire type " +
                         std::to_string(f.wire_type));
    }
  }

 private:
  Status Take(uint64_t size, WireField& f) {
    if (size > data_.size() - pos_) {
      return Malformed("field " + std::to_string(f.number) + " is truncated");
    }
    f.bytes = data_.substr(pos_, size);
    pos_ += size;
    return Status::Ok();
  }

  Status Malformed(const std::string& problem) const {
    return BadRequest("protobuf: " + problem + " in " + std::string(message_) + " at byte " +
                      std::to_string(pos_));
  }

  std::string_view data_;
  std::string_view message_;
  size_t pos_ = 0;
};

Status UnknownField(std::string_view where, int number) {
  return Status(Code::kUnsupportedMedia, "protobuf field " + std::to_string(number) + " of " +
                                             std::string(where) +
                                             " is not known to this server; send JSON instead");
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < in.size() ? kAlphabet[n >> 6 & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

// Go's omitempty zero of a scalar.
bool IsZero(const Value& v) {
  return (v.IsString() && v.GetStringLength() == 0) || (v.IsInt64() && v.GetInt64() == 0) ||
         v.IsFalse();
}

class Decoder {
 public:
  explicit Decoder(Allocator& a) : a_(a) {}

  // Decodes `data`, an `m` message, merging its fields into the object `obj` (protobuf's
  // merge: a singular field seen again replaces, a message merges, a list appends).
  Status DecodeMessage(const Message& m, std::string_view data, Value& obj) {
    WireReader reader(data, m.name);
    while (!reader.Done()) {
      ASSIGN_OR_RETURN(WireField w, reader.Next());
      auto it = m.fields.find(w.number);
      if (it == m.fields.end()) return UnknownField(m.name, w.number);
      RETURN_IF_ERROR(DecodeField(m, it->second, w, obj));
    }
    return Status::Ok();
  }

 private:
  Status DecodeField(const Message& m, const Field& f, const WireField& w, Value& obj) {
    if (f.label == Label::kRepeated && IsVarint(f.type) && w.wire_type == kLengthDelimited) {
      WireReader packed(w.bytes, m.name);
      Value& list = Member(obj, f.json, rapidjson::kArrayType);
      while (!packed.Done()) {
        ASSIGN_OR_RETURN(uint64_t v, packed.Varint());
        list.PushBack(Scalar(f.type, v), a_);
      }
      return Status::Ok();
    }
    int want = IsVarint(f.type) ? kVarint : kLengthDelimited;
    if (w.wire_type != want) {
      return BadRequest("protobuf: field " + std::to_string(f.number) + " of " + m.name +
                        " has wire type " + std::to_string(w.wire_type) + ", want " +
                        std::to_string(want));
    }
    switch (f.label) {
      case Label::kMap:
        return DecodeMapEntry(m, f, w.bytes, Member(obj, f.json, rapidjson::kObjectType));
      case Label::kRepeated: {
        ASSIGN_OR_RETURN(Value v, DecodeValue(f, w));
        Member(obj, f.json, rapidjson::kArrayType).PushBack(v, a_);
        return Status::Ok();
      }
      case Label::kSingular:
        break;
    }
    if (f.type == Type::kMessage) {
      Value& target = f.json.empty() ? obj : Member(obj, f.json, rapidjson::kObjectType);
      return DecodeMessage(*f.message, w.bytes, target);
    }
    ASSIGN_OR_RETURN(Value v, DecodeValue(f, w));
    // A zero Go value is omitted as omitempty would; a Go pointer was set, so it stays.
    bool omit = v.IsNull() || (f.message == nullptr && !f.pointer && IsZero(v));
    if (!omit) Member(obj, f.json, v.GetType()) = v;
    return Status::Ok();
  }

  // A map field's entry: key=1 (string), value=2 (an absent value is the zero value).
  Status DecodeMapEntry(const Message& m, const Field& f, std::string_view data, Value& map) {
    std::string where = m.name + "." + f.json + " entry";
    WireReader reader(data, where);
    std::string_view key = "";  // an absent key is the empty string
    Value value(rapidjson::StringRef(f.type == Type::kQuantity ? "0" : ""));
    while (!reader.Done()) {
      ASSIGN_OR_RETURN(WireField w, reader.Next());
      if (w.number != 1 && w.number != 2) return UnknownField(where, w.number);
      if (w.wire_type != kLengthDelimited) {
        return BadRequest("protobuf: field " + std::to_string(w.number) + " of " + where +
                          " has wire type " + std::to_string(w.wire_type) + ", want 2");
      }
      if (w.number == 1) {
        key = w.bytes;
      } else {
        ASSIGN_OR_RETURN(value, DecodeValue(f, w));
      }
    }
    Member(map, key, value.GetType()) = value;
    return Status::Ok();
  }

  // The JSON value of one occurrence of `f` whose wire type was checked; null for a zero
  // Time (Go's `null`).
  Result<Value> DecodeValue(const Field& f, const WireField& w) {
    switch (f.type) {
      case Type::kString:
        return api::Str(w.bytes, a_);
      case Type::kBytes:
        return api::Str(Base64(w.bytes), a_);
      case Type::kInt32:
      case Type::kInt64:
      case Type::kBool:
        return Scalar(f.type, w.varint);
      default:
        break;
    }
    Value obj(rapidjson::kObjectType);
    RETURN_IF_ERROR(DecodeMessage(*f.message, w.bytes, obj));
    switch (f.type) {
      case Type::kTime:
      case Type::kMicroTime: {
        if (obj.ObjectEmpty()) return Value();
        // Years 0001 to 9999, as Go's RFC 3339 encoder accepts.
        int64_t seconds = api::GetInt(obj, "seconds");
        int64_t nanos = api::GetInt(obj, "nanos");
        if (seconds < -62135596800 || seconds > 253402300799 || nanos < 0 || nanos > 999999999) {
          return BadRequest("protobuf: time out of range in " + f.message->name);
        }
        std::string s = util::FormatRfc3339(seconds);
        if (f.type == Type::kMicroTime) {
          char fraction[16];
          std::snprintf(fraction, sizeof fraction, ".%06dZ", static_cast<int>(nanos / 1000));
          s.pop_back();
          s += fraction;
        }
        return api::Str(s, a_);
      }
      case Type::kIntOrString:
        if (api::GetInt(obj, "type") == 1) return api::Str(api::GetString(obj, "strVal"), a_);
        return Value(static_cast<int32_t>(api::GetInt(obj, "intVal")));
      case Type::kQuantity:
        return api::Str(api::GetString(obj, "string"), a_);
      case Type::kFieldsV1: {
        auto fields = api::ParseJson(api::GetString(obj, "raw"));
        if (!fields.ok()) {
          return BadRequest("protobuf: FieldsV1 is not JSON: " + fields.status().message());
        }
        return Value(static_cast<const Value&>(*fields), a_);
      }
      default:
        return obj;
    }
  }

  static Value Scalar(Type type, uint64_t v) {
    switch (type) {
      case Type::kInt32:
        return Value(static_cast<int32_t>(v));  // negative int32s are sign-extended varints
      case Type::kBool:
        return Value(v != 0);
      default:
        return Value(static_cast<int64_t>(v));
    }
  }

  // The member `name` of `obj`, added (or reset) as an empty value of `type` unless it
  // already has that type.
  Value& Member(Value& obj, std::string_view name, rapidjson::Type type) {
    auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
    if (it == obj.MemberEnd()) {
      obj.AddMember(api::Str(name, a_), Value(type), a_);
      return (obj.MemberEnd() - 1)->value;
    }
    if (it->value.GetType() != type) it->value = Value(type);
    return it->value;
  }

  Allocator& a_;
};

}  // namespace

Result<api::Document> DecodeProtobufObject(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, kMagic.size()) != kMagic) {
    return BadRequest("protobuf body does not start with the magic \"k8s\\x00\"");
  }
  const Schema& schema = Schema::Get();
  api::Document envelope;
  envelope.SetObject();
  RETURN_IF_ERROR(Decoder(envelope.GetAllocator())
                      .DecodeMessage(schema.Envelope(), body.substr(kMagic.size()), envelope));
  std::string encoding = api::GetString(envelope, "contentEncoding");
  if (!encoding.empty()) {
    return Status(Code::kUnsupportedMedia, "protobuf contentEncoding \"" + encoding +
                                               "\" is not supported; send JSON instead");
  }
  std::string content_type = api::GetString(envelope, "contentType");
  if (!content_type.empty() && content_type != kProtobufContentType) {
    return Status(Code::kUnsupportedMedia, "protobuf contentType \"" + content_type +
                                               "\" is not supported; send JSON instead");
  }
  std::string api_version = api::GetString(envelope, "typeMeta.apiVersion");
  std::string kind = api::GetString(envelope, "typeMeta.kind");
  const Message* message = schema.Kind(api_version, kind);
  if (message == nullptr) {
    return Status(Code::kUnsupportedMedia, "protobuf is not supported for " +
                                               (kind.empty() ? "an object without kind" : kind) +
                                               " (apiVersion \"" + api_version +
                                               "\"); send JSON instead");
  }
  api::Document doc;
  doc.SetObject();
  Allocator& a = doc.GetAllocator();
  doc.AddMember("apiVersion", api::Str(api_version, a), a);
  doc.AddMember("kind", api::Str(kind, a), a);
  const Value* raw = api::Find(envelope, "raw");  // absent when empty
  RETURN_IF_ERROR(Decoder(a).DecodeMessage(*message, raw ? api::View(*raw) : "", doc));
  return doc;
}

namespace {

// Looks `name` up among `m`'s fields, descending into inlined messages.
const Field* FieldNamed(const Message& m, std::string_view name) {
  for (const auto& [number, f] : m.fields) {
    if (f.json == name) return &f;
    if (f.json.empty() && f.message != nullptr) {
      if (const Field* inner = FieldNamed(*f.message, name)) return inner;
    }
  }
  return nullptr;
}

void CollectUnknown(const Message& m, const Value& obj, const std::string& path,
                    std::vector<std::string>& out) {
  if (!obj.IsObject()) return;
  for (const auto& member : obj.GetObject()) {
    std::string_view name = api::View(member.name);
    std::string here = path.empty() ? std::string(name) : path + "." + std::string(name);
    if (path.empty() && (name == "apiVersion" || name == "kind")) continue;
    const Field* f = FieldNamed(m, name);
    if (f == nullptr) {
      out.push_back(here);
      continue;
    }
    if (f->type != Type::kMessage || f->message == nullptr) continue;
    if (f->label == Label::kSingular) {
      CollectUnknown(*f->message, member.value, here, out);
    } else if (f->label == Label::kRepeated && member.value.IsArray()) {
      for (rapidjson::SizeType i = 0; i < member.value.Size(); ++i) {
        CollectUnknown(*f->message, member.value[i], here + "[" + std::to_string(i) + "]", out);
      }
    }
  }
}

}  // namespace

std::vector<std::string> UnknownFields(std::string_view api_version, std::string_view kind,
                                       const api::Value& obj) {
  std::vector<std::string> out;
  if (const Message* m = Schema::Get().Kind(api_version, kind)) CollectUnknown(*m, obj, "", out);
  return out;
}

}  // namespace kubepp::apiserver
