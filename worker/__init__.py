"""RQ jobs: slow or network-bound work the web hook must not wait for."""
