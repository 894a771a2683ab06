"""The portal: customer portal, agent workspace API, admin API, webhooks and the static web UI."""
