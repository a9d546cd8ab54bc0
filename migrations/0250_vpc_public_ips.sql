-- The VPC a public address belongs to (its network_id: the tier its rules serve, if any).
ALTER TABLE public_ips ADD COLUMN vpc_id TEXT;
CREATE INDEX public_ips_vpc ON public_ips (vpc_id);
