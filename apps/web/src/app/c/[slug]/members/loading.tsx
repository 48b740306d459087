import { LoadingState } from '@/ui';

export default function Loading() {
  return <LoadingState />;
}
