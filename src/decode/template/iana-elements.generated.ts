// STUB: replaced by scripts/gen-ipfix-ie.ts output.
export type IpfixDataType = string;
export interface IanaElement {
  id: number;
  name: string;
  dataType: IpfixDataType;
}
export const IANA_ELEMENTS: readonly IanaElement[] = [];
