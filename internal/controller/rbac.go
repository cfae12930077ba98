package controller

// The permissions of the manager: its own API, the kinds it builds, and
// Events, and read-only access to pods, whose metadata tells whether a slot's
// cron and consumer pods are gone (rule 13). Nothing else: in particular no
// access to Secrets, and no write to pods.

// +kubebuilder:rbac:groups=magento.ops.dev,resources=magentoreleases,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=magento.ops.dev,resources=magentoreleases/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
