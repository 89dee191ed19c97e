//! Route tables, routes, internet gateways, network ACLs and DHCP options.
